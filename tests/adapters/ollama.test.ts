import type { ChatResponse, GenerateResponse } from 'ollama';
import { describe, expect, it } from 'vitest';
import { ProviderUsageError, type ProviderUsage } from '../../src/adapters/contract.js';
import { usageFromOllama } from '../../src/adapters/ollama.js';

// Final responses shaped as the SDK declares them.
const chat = {
  model: 'Llama3.2:3b',
  created_at: new Date('2026-01-05T10:00:00Z'),
  message: { role: 'assistant', content: 'Hello.', thinking: 'Short answer.' },
  done: true,
  done_reason: 'stop',
  total_duration: 1_500_000_000,
  load_duration: 20_000_000,
  prompt_eval_count: 42,
  prompt_eval_duration: 80_000_000,
  eval_count: 18,
  eval_duration: 400_000_000,
} satisfies ChatResponse;

const generate = {
  model: 'qwen3:8b',
  created_at: new Date('2026-01-05T10:00:00Z'),
  response: 'Paris.',
  done: true,
  done_reason: 'stop',
  context: [1, 2, 3],
  total_duration: 900_000_000,
  load_duration: 10_000_000,
  prompt_eval_count: 25,
  prompt_eval_duration: 50_000_000,
  eval_count: 7,
  eval_duration: 200_000_000,
} satisfies GenerateResponse;

const expected = (fields: Partial<ProviderUsage>): ProviderUsage => ({
  provider: 'ollama',
  model: 'llama3.2:3b',
  serviceTier: 'standard',
  inputTokens: 0,
  cachedInputTokens: 0,
  cacheWriteTokens: 0,
  cacheWrite1hTokens: 0,
  outputTokens: 0,
  reasoningTokens: 0,
  webSearchRequests: 0,
  toolRequests: 0,
  ...fields,
});

function refusal(run: () => unknown): ProviderUsageError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ProviderUsageError);
    return error as ProviderUsageError;
  }
  throw new Error('expected a ProviderUsageError');
}

describe('usageFromOllama', () => {
  it('reads a final chat response', () => {
    expect(usageFromOllama(chat)).toEqual(expected({ inputTokens: 42, outputTokens: 18 }));
  });

  it('reads a final generate response', () => {
    expect(usageFromOllama(generate)).toEqual(expected({ model: 'qwen3:8b', inputTokens: 25, outputTokens: 7 }));
  });

  it('reads a final response without prompt_eval_count (prompt all cached) as 0 input', () => {
    const { prompt_eval_count: _, ...cachedPrompt } = chat;
    expect(usageFromOllama(cachedPrompt)).toEqual(expected({ outputTokens: 18 }));
  });

  it('refuses a chunk that is not the final one', () => {
    const chunk = {
      ...chat,
      message: { role: 'assistant', content: 'Hel' },
      done: false,
      done_reason: '',
      prompt_eval_count: 0,
      eval_count: 0,
    } satisfies ChatResponse;
    const error = refusal(() => usageFromOllama(chunk));
    expect(error.field).toBe('done');
    expect(error.rule).toBe('is not true: only the final chunk carries the counts (ollama usage)');
  });

  it('refuses a final response without eval_count or without a model', () => {
    const { eval_count: _, ...noOutput } = generate;
    expect(refusal(() => usageFromOllama(noOutput)).field).toBe('eval_count');
    expect(refusal(() => usageFromOllama({ ...chat, model: '' })).field).toBe('model');
  });

  it.each([
    ['negative', -1, 'is negative (-1)'],
    ['NaN', Number.NaN, 'is not a finite number (NaN)'],
    ['not a whole number', 1.5, 'is not a whole number (1.5)'],
    ['infinite', Number.NEGATIVE_INFINITY, 'is not a finite number (-Infinity)'],
  ])('refuses a count that is %s', (_, value, rule) => {
    const prompt = refusal(() => usageFromOllama({ ...chat, prompt_eval_count: value }));
    expect(prompt.field).toBe('prompt_eval_count');
    expect(prompt.rule).toBe(`${rule} (ollama usage)`);
    expect(refusal(() => usageFromOllama({ ...generate, eval_count: value })).field).toBe('eval_count');
  });

  it('refuses a count of the wrong type', () => {
    expect(refusal(() => usageFromOllama({ ...chat, eval_count: '18' } as unknown as ChatResponse)).field).toBe('eval_count');
  });
});
