import type { LanguageModelUsage } from 'ai';
import { describe, expect, it } from 'vitest';
import { usageFromAiSdk } from '../../src/adapters/aiSdk.js';
import { ProviderUsageError } from '../../src/adapters/contract.js';

/** Runs fn, which must throw a ProviderUsageError, and returns that error. */
function refusal(fn: () => unknown): ProviderUsageError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ProviderUsageError);
    return error as ProviderUsageError;
  }
  throw new Error('expected a ProviderUsageError');
}

const noDetails = {
  inputTokens: 1200,
  inputTokenDetails: { noCacheTokens: undefined, cacheReadTokens: undefined, cacheWriteTokens: undefined },
  outputTokens: 300,
  outputTokenDetails: { textTokens: undefined, reasoningTokens: undefined },
  totalTokens: 1500,
} satisfies LanguageModelUsage;

const detailed = {
  inputTokens: 10_000,
  inputTokenDetails: { noCacheTokens: 1000, cacheReadTokens: 6000, cacheWriteTokens: 3000 },
  outputTokens: 2000,
  outputTokenDetails: { textTokens: 500, reasoningTokens: 1500 },
  totalTokens: 12_000,
} satisfies LanguageModelUsage;

describe('usageFromAiSdk', () => {
  it('reads a usage without details: everything is plain input and output', () => {
    expect(usageFromAiSdk(noDetails, { provider: 'openai.chat', model: 'gpt-4o' })).toEqual({
      provider: 'openai',
      model: 'gpt-4o',
      serviceTier: 'standard',
      inputTokens: 1200,
      cachedInputTokens: 0,
      cacheWriteTokens: 0,
      cacheWrite1hTokens: 0,
      outputTokens: 300,
      reasoningTokens: 0,
      webSearchRequests: 0,
      toolRequests: 0,
    });
  });

  it('splits the totals by their details, and takes the extras from meta', () => {
    const meta = {
      provider: 'anthropic.messages',
      model: 'Claude-Sonnet-4-5',
      serviceTier: 'priority',
      cacheWrite1hTokens: 1000,
      webSearchRequests: 2,
      toolRequests: 1,
    } as const;
    expect(usageFromAiSdk(detailed, meta)).toEqual({
      provider: 'anthropic',
      model: 'claude-sonnet-4-5',
      serviceTier: 'priority',
      inputTokens: 1000,
      cachedInputTokens: 6000,
      cacheWriteTokens: 3000,
      cacheWrite1hTokens: 1000,
      outputTokens: 500,
      reasoningTokens: 1500,
      webSearchRequests: 2,
      toolRequests: 1,
    });
  });

  it('derives noCacheTokens and textTokens by subtraction when they are left out', () => {
    const partial = {
      inputTokens: 5000,
      inputTokenDetails: { noCacheTokens: undefined, cacheReadTokens: 4000, cacheWriteTokens: undefined },
      outputTokens: 700,
      outputTokenDetails: { textTokens: undefined, reasoningTokens: 200 },
      totalTokens: undefined,
    } satisfies LanguageModelUsage;
    expect(usageFromAiSdk(partial, { provider: 'google.generative-ai', model: 'models/gemini-2.5-flash' })).toEqual({
      provider: 'google',
      model: 'gemini-2.5-flash',
      serviceTier: 'standard',
      inputTokens: 1000,
      cachedInputTokens: 4000,
      cacheWriteTokens: 0,
      cacheWrite1hTokens: 0,
      outputTokens: 500,
      reasoningTokens: 200,
      webSearchRequests: 0,
      toolRequests: 0,
    });
  });

  it('falls back to the deprecated top-level cachedInputTokens and reasoningTokens', () => {
    const legacy = { ...noDetails, cachedInputTokens: 1000, reasoningTokens: 100 } satisfies LanguageModelUsage;
    expect(usageFromAiSdk(legacy, { provider: 'openai', model: 'o3' })).toMatchObject({
      inputTokens: 200,
      cachedInputTokens: 1000,
      outputTokens: 200,
      reasoningTokens: 100,
    });
  });

  it.each([
    ['openai.responses', 'openai'],
    ['OpenRouter.chat', 'openrouter'],
    ['ollama', 'ollama'],
    ['google.vertex.chat', 'google'],
  ])('names provider %s by our id %s', (given, id) => {
    const result = usageFromAiSdk(noDetails, { provider: given, model: `${id}/some-model` });
    expect(result.provider).toBe(id);
    // normalizeModel takes off the prefix of our id.
    expect(result.model).toBe('some-model');
  });

  it('takes the batch tier from meta', () => {
    expect(usageFromAiSdk(noDetails, { provider: 'openai.chat', model: 'gpt-4o', serviceTier: 'batch' }).serviceTier).toBe('batch');
  });

  it('refuses a usage whose input and output totals are both unknown', () => {
    const unknown = {
      inputTokens: undefined,
      inputTokenDetails: { noCacheTokens: undefined, cacheReadTokens: undefined, cacheWriteTokens: undefined },
      outputTokens: undefined,
      outputTokenDetails: { textTokens: undefined, reasoningTokens: undefined },
      totalTokens: undefined,
    } satisfies LanguageModelUsage;
    const error = refusal(() => usageFromAiSdk(unknown, { provider: 'openai.chat', model: 'gpt-4o' }));
    expect(error.field).toBe('usage.inputTokens');
    expect(error.rule).toMatch(/is missing/);
  });

  it.each<[string, LanguageModelUsage, string, RegExp]>([
    ['a missing inputTokens', { ...noDetails, inputTokens: undefined, totalTokens: undefined }, 'usage.inputTokens', /is missing/],
    ['a missing outputTokens', { ...noDetails, outputTokens: undefined, totalTokens: undefined }, 'usage.outputTokens', /is missing/],
    ['a negative inputTokens', { ...noDetails, inputTokens: -1 }, 'usage.inputTokens', /is negative/],
    ['a NaN outputTokens', { ...noDetails, outputTokens: Number.NaN }, 'usage.outputTokens', /finite/],
    ['a fractional cacheReadTokens', { ...detailed, inputTokenDetails: { ...detailed.inputTokenDetails, cacheReadTokens: 6000.5 } }, 'usage.inputTokenDetails.cacheReadTokens', /whole number/],
    ['a negative cacheWriteTokens', { ...detailed, inputTokenDetails: { ...detailed.inputTokenDetails, cacheWriteTokens: -3000 } }, 'usage.inputTokenDetails.cacheWriteTokens', /is negative/],
    ['a NaN reasoningTokens', { ...detailed, outputTokenDetails: { textTokens: 500, reasoningTokens: Number.NaN } }, 'usage.outputTokenDetails.reasoningTokens', /finite/],
    ['a negative deprecated cachedInputTokens', { ...noDetails, cachedInputTokens: -1 }, 'usage.cachedInputTokens', /is negative/],
    ['cacheReadTokens > inputTokens', { ...noDetails, inputTokenDetails: { noCacheTokens: undefined, cacheReadTokens: 1201, cacheWriteTokens: undefined } }, 'usage.inputTokenDetails.cacheReadTokens', /is larger than usage\.inputTokens/],
    ['cacheReadTokens + cacheWriteTokens > inputTokens', { ...noDetails, inputTokenDetails: { noCacheTokens: undefined, cacheReadTokens: 700, cacheWriteTokens: 501 } }, 'usage.inputTokenDetails', /is larger than usage\.inputTokens \(700 \+ 501 > 1200\)/],
    ['noCacheTokens > inputTokens', { ...noDetails, inputTokenDetails: { noCacheTokens: 1201, cacheReadTokens: undefined, cacheWriteTokens: undefined } }, 'usage.inputTokenDetails.noCacheTokens', /is larger than usage\.inputTokens/],
    ['input details that do not add up to inputTokens', { ...detailed, inputTokenDetails: { noCacheTokens: 1000, cacheReadTokens: 6000, cacheWriteTokens: 2000 } }, 'usage.inputTokens', /not the sum of its parts/],
    ['reasoningTokens > outputTokens', { ...noDetails, outputTokenDetails: { textTokens: undefined, reasoningTokens: 301 } }, 'usage.outputTokenDetails.reasoningTokens', /is larger than usage\.outputTokens/],
    ['textTokens > outputTokens', { ...noDetails, outputTokenDetails: { textTokens: 301, reasoningTokens: undefined } }, 'usage.outputTokenDetails.textTokens', /is larger than usage\.outputTokens/],
    ['output details that do not add up to outputTokens', { ...detailed, outputTokenDetails: { textTokens: 2000, reasoningTokens: 1500 } }, 'usage.outputTokens', /not the sum of its parts/],
    ['a totalTokens that disagrees', { ...detailed, totalTokens: 12_001 }, 'usage.totalTokens', /not the sum of its parts/],
  ])('refuses %s', (_name, usage, field, rule) => {
    const error = refusal(() => usageFromAiSdk(usage, { provider: 'anthropic.messages', model: 'claude-sonnet-4-5' }));
    expect(error.field).toBe(field);
    expect(error.rule).toMatch(rule);
    expect(error.message).toMatch(/\(anthropic usage\)$/);
  });

  it.each<[string, Parameters<typeof usageFromAiSdk>[1], string]>([
    ['an empty provider', { provider: ' ', model: 'gpt-4o' }, 'meta.provider'],
    ['a provider that is no id', { provider: 'Open AI', model: 'gpt-4o' }, 'meta.provider'],
    ['an empty model', { provider: 'openai.chat', model: '' }, 'meta.model'],
    ['an unknown tier', { provider: 'openai.chat', model: 'gpt-4o', serviceTier: 'cheap' as 'batch' }, 'meta.serviceTier'],
    ['more 1-hour cache writes than cache writes', { provider: 'anthropic.messages', model: 'claude-sonnet-4-5', cacheWrite1hTokens: 3001 }, 'meta.cacheWrite1hTokens'],
    ['a negative webSearchRequests', { provider: 'openai.responses', model: 'gpt-4o', webSearchRequests: -1 }, 'meta.webSearchRequests'],
    ['a fractional toolRequests', { provider: 'openai.responses', model: 'gpt-4o', toolRequests: 0.5 }, 'meta.toolRequests'],
  ])('refuses meta with %s', (_name, meta, field) => {
    expect(refusal(() => usageFromAiSdk(detailed, meta)).field).toBe(field);
  });
});
