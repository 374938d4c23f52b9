import type { ChatCompletion, ChatCompletionChunk } from 'openai/resources/chat/completions';
import { describe, expect, it } from 'vitest';
import { ProviderUsageError } from '../../src/adapters/contract.js';
import { usageFromOpenRouter, type OpenRouterUsage } from '../../src/adapters/openrouter.js';

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

function completion(usage: OpenRouterUsage | undefined, model = 'anthropic/claude-sonnet-4'): ChatCompletion {
  return {
    id: 'gen-1',
    object: 'chat.completion',
    created: 1_760_000_000,
    model,
    choices: [
      {
        index: 0,
        finish_reason: 'stop',
        logprobs: null,
        message: { role: 'assistant', content: 'Done.', refusal: null },
      },
    ],
    ...(usage === undefined ? {} : { usage }),
  } satisfies ChatCompletion;
}

function chunk(usage: OpenRouterUsage | null | undefined): ChatCompletionChunk {
  return {
    id: 'gen-2',
    object: 'chat.completion.chunk',
    created: 1_760_000_000,
    model: 'openai/gpt-4o-mini',
    choices: usage ? [] : [{ index: 0, delta: { content: 'Do' }, finish_reason: null }],
    ...(usage === undefined ? {} : { usage }),
  } satisfies ChatCompletionChunk;
}

describe('usageFromOpenRouter', () => {
  it('reads a tiny cost exactly (1.2e-7 is 0.00000012) and keeps the vendor prefix of the model', () => {
    const usage = { prompt_tokens: 3, completion_tokens: 1, total_tokens: 4, cost: 1.2e-7 } satisfies OpenRouterUsage;
    expect(usageFromOpenRouter(completion(usage, 'meta-llama/llama-3.1-8b-instruct'))).toEqual({
      provider: 'openrouter',
      model: 'meta-llama/llama-3.1-8b-instruct',
      serviceTier: 'standard',
      inputTokens: 3,
      cachedInputTokens: 0,
      cacheWriteTokens: 0,
      cacheWrite1hTokens: 0,
      outputTokens: 1,
      reasoningTokens: 0,
      webSearchRequests: 0,
      toolRequests: 0,
      costUsd: '0.00000012',
      byok: false,
    });
  });

  it('takes cache reads, cache writes and reasoning out of the totals', () => {
    const usage = {
      prompt_tokens: 3000,
      completion_tokens: 500,
      total_tokens: 3500,
      prompt_tokens_details: { cached_tokens: 2000, cache_write_tokens: 800, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 120 },
      cost: 0.000315,
      is_byok: false,
    } satisfies OpenRouterUsage;
    expect(usageFromOpenRouter(completion(usage, ' Anthropic/Claude-Sonnet-4'))).toEqual({
      provider: 'openrouter',
      model: 'anthropic/claude-sonnet-4',
      serviceTier: 'standard',
      inputTokens: 200,
      cachedInputTokens: 2000,
      cacheWriteTokens: 800,
      cacheWrite1hTokens: 0,
      outputTokens: 380,
      reasoningTokens: 120,
      webSearchRequests: 0,
      toolRequests: 0,
      costUsd: '0.000315',
      byok: false,
    });
  });

  it('reads is_byok, from the final stream chunk', () => {
    const final = chunk({
      prompt_tokens: 194,
      completion_tokens: 2,
      total_tokens: 196,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
      cost: 0.95,
      is_byok: true,
    });
    expect(usageFromOpenRouter(final)).toEqual({
      provider: 'openrouter',
      model: 'openai/gpt-4o-mini',
      serviceTier: 'standard',
      inputTokens: 194,
      cachedInputTokens: 0,
      cacheWriteTokens: 0,
      cacheWrite1hTokens: 0,
      outputTokens: 2,
      reasoningTokens: 0,
      webSearchRequests: 0,
      toolRequests: 0,
      costUsd: '0.95',
      byok: true,
    });
  });

  it.each<[number, string]>([
    [0, '0'],
    [2, '2'],
    [12.5, '12.5'],
    [1.5e-10, '0.0000000002'],
    [5e-11, '0.0000000001'],
    [4.9e-11, '0'],
    [0.12345678904, '0.123456789'],
    [0.12345678905, '0.1234567891'],
    [0.99999999995, '1'],
    [123456.00000000001, '123456'],
    [1e21, '1000000000000000000000'],
  ])('spells cost %s as %s, without exponent, to at most 10 decimals', (cost, text) => {
    const usage = { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2, cost } satisfies OpenRouterUsage;
    expect(usageFromOpenRouter(completion(usage)).costUsd).toBe(text);
  });

  it.each([
    ['without usage', chunk(undefined)],
    ['with usage: null', chunk(null)],
  ])('refuses a chunk %s', (_name, c) => {
    const error = refusal(() => usageFromOpenRouter(c));
    expect(error.field).toBe('usage');
    expect(error.rule).toMatch(/only the final stream chunk carries usage/);
    expect(error.provider).toBe('openrouter');
  });

  const base = { prompt_tokens: 100, completion_tokens: 50, total_tokens: 150, cost: 0.001 } satisfies OpenRouterUsage;
  it.each<[string, OpenRouterUsage, string, RegExp]>([
    ['a missing cost', { prompt_tokens: 100, completion_tokens: 50, total_tokens: 150 }, 'usage.cost', /is missing/],
    ['a negative cost', { ...base, cost: -0.001 }, 'usage.cost', /is negative/],
    ['a NaN cost', { ...base, cost: Number.NaN }, 'usage.cost', /finite/],
    ['an infinite cost', { ...base, cost: Number.POSITIVE_INFINITY }, 'usage.cost', /finite/],
    ['a cost given as text', { ...base, cost: '0.001' as unknown as number }, 'usage.cost', /is not a number/],
    ['a negative prompt_tokens', { ...base, prompt_tokens: -100, total_tokens: -50 }, 'usage.prompt_tokens', /is negative/],
    ['a fractional completion_tokens', { ...base, completion_tokens: 50.5 }, 'usage.completion_tokens', /whole number/],
    ['a NaN cache_write_tokens', { ...base, prompt_tokens_details: { cache_write_tokens: Number.NaN } }, 'usage.prompt_tokens_details.cache_write_tokens', /finite/],
    ['cached > prompt_tokens', { ...base, prompt_tokens_details: { cached_tokens: 101 } }, 'usage.prompt_tokens_details.cached_tokens', /is larger than usage\.prompt_tokens/],
    ['cache writes > prompt_tokens', { ...base, prompt_tokens_details: { cache_write_tokens: 101 } }, 'usage.prompt_tokens_details.cache_write_tokens', /is larger than usage\.prompt_tokens/],
    ['cached + cache writes > prompt_tokens', { ...base, prompt_tokens_details: { cached_tokens: 60, cache_write_tokens: 41 } }, 'usage.prompt_tokens_details', /is larger than usage\.prompt_tokens \(60 \+ 41 > 100\)/],
    ['reasoning > completion_tokens', { ...base, completion_tokens_details: { reasoning_tokens: 51 } }, 'usage.completion_tokens_details.reasoning_tokens', /is larger than usage\.completion_tokens/],
    ['a total_tokens that disagrees', { ...base, total_tokens: 149 }, 'usage.total_tokens', /not the sum of its parts/],
    ['a missing prompt_tokens', { completion_tokens: 50, total_tokens: 50, cost: 0.001 } as OpenRouterUsage, 'usage.prompt_tokens', /is missing/],
    ['a missing completion_tokens', { prompt_tokens: 100, total_tokens: 100, cost: 0.001 } as OpenRouterUsage, 'usage.completion_tokens', /is missing/],
  ])('refuses %s', (_name, usage, field, rule) => {
    const error = refusal(() => usageFromOpenRouter(completion(usage)));
    expect(error.field).toBe(field);
    expect(error.rule).toMatch(rule);
    expect(error.message).toMatch(/\(openrouter usage\)$/);
  });

  it('refuses a completion without usage', () => {
    expect(refusal(() => usageFromOpenRouter(completion(undefined))).field).toBe('usage');
  });
});
