import type { ChatCompletion, ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { CompletionUsage } from 'openai/resources/completions';
import type { Response, ResponseUsage } from 'openai/resources/responses/responses';
import { describe, expect, it } from 'vitest';
import { ProviderUsageError } from '../../src/adapters/contract.js';
import { usageFromOpenAI } from '../../src/adapters/openai.js';

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

function completion(usage: CompletionUsage | undefined, extra: Partial<ChatCompletion> = {}): ChatCompletion {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1_760_000_000,
    model: 'gpt-4o-2024-08-06',
    choices: [
      {
        index: 0,
        finish_reason: 'stop',
        logprobs: null,
        message: { role: 'assistant', content: 'Hello.', refusal: null },
      },
    ],
    ...(usage === undefined ? {} : { usage }),
    ...extra,
  } satisfies ChatCompletion;
}

function chunk(usage: CompletionUsage | null | undefined): ChatCompletionChunk {
  return {
    id: 'chatcmpl-2',
    object: 'chat.completion.chunk',
    created: 1_760_000_000,
    model: 'gpt-4o-mini',
    choices: usage ? [] : [{ index: 0, delta: { content: 'Hel' }, finish_reason: null }],
    ...(usage === undefined ? {} : { usage }),
  } satisfies ChatCompletionChunk;
}

function response(usage: ResponseUsage | undefined, extra: Partial<Response> = {}): Response {
  return {
    id: 'resp_1',
    object: 'response',
    created_at: 1_760_000_000,
    status: 'completed',
    model: 'o4-mini',
    output_text: 'It is sunny.',
    error: null,
    incomplete_details: null,
    instructions: null,
    metadata: null,
    parallel_tool_calls: true,
    temperature: 1,
    top_p: 1,
    tool_choice: 'auto',
    tools: [{ type: 'web_search' }],
    output: [
      { id: 'rs_1', type: 'reasoning', summary: [] },
      {
        id: 'ws_1',
        type: 'web_search_call',
        status: 'completed',
        action: { type: 'search', query: 'weather in Paris' },
      },
      {
        id: 'msg_1',
        type: 'message',
        role: 'assistant',
        status: 'completed',
        content: [{ type: 'output_text', text: 'It is sunny.', annotations: [] }],
      },
    ],
    ...(usage === undefined ? {} : { usage }),
    ...extra,
  } satisfies Response;
}

const zeroExtras = { cacheWriteTokens: 0, cacheWrite1hTokens: 0, webSearchRequests: 0, toolRequests: 0 };

describe('usageFromOpenAI: Chat Completions', () => {
  it('reads a plain completion', () => {
    const usage = { prompt_tokens: 12, completion_tokens: 5, total_tokens: 17 } satisfies CompletionUsage;
    expect(usageFromOpenAI(completion(usage))).toEqual({
      provider: 'openai',
      model: 'gpt-4o-2024-08-06',
      serviceTier: 'standard',
      inputTokens: 12,
      cachedInputTokens: 0,
      outputTokens: 5,
      reasoningTokens: 0,
      ...zeroExtras,
    });
  });

  it('takes cached tokens out of prompt_tokens and reasoning tokens out of completion_tokens', () => {
    const usage = {
      prompt_tokens: 2006,
      completion_tokens: 300,
      total_tokens: 2306,
      prompt_tokens_details: { cached_tokens: 1920, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: 256,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    } satisfies CompletionUsage;
    expect(usageFromOpenAI(completion(usage, { model: 'OpenAI/O3 ' }))).toEqual({
      provider: 'openai',
      model: 'o3',
      serviceTier: 'standard',
      inputTokens: 86,
      cachedInputTokens: 1920,
      outputTokens: 44,
      reasoningTokens: 256,
      ...zeroExtras,
    });
  });

  it('accepts the final stream chunk, which carries usage', () => {
    const final = chunk({
      prompt_tokens: 40,
      completion_tokens: 10,
      total_tokens: 50,
      prompt_tokens_details: { cached_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    });
    expect(usageFromOpenAI(final)).toEqual({
      provider: 'openai',
      model: 'gpt-4o-mini',
      serviceTier: 'standard',
      inputTokens: 40,
      cachedInputTokens: 0,
      outputTokens: 10,
      reasoningTokens: 0,
      ...zeroExtras,
    });
  });

  it.each([
    ['without usage', chunk(undefined)],
    ['with usage: null', chunk(null)],
  ])('refuses a chunk %s', (_name, c) => {
    const error = refusal(() => usageFromOpenAI(c));
    expect(error.field).toBe('usage');
    expect(error.rule).toMatch(/only the final stream chunk carries usage \(stream_options\.include_usage\)/);
    expect(error.provider).toBe('openai');
  });

  it('refuses a completion without usage', () => {
    expect(refusal(() => usageFromOpenAI(completion(undefined))).field).toBe('usage');
  });

  it('maps service_tier: flex, priority, and the standard ones', () => {
    const usage = { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } satisfies CompletionUsage;
    expect(usageFromOpenAI(completion(usage, { service_tier: 'flex' })).serviceTier).toBe('flex');
    expect(usageFromOpenAI(completion(usage, { service_tier: 'priority' })).serviceTier).toBe('priority');
    for (const tier of ['default', 'auto', 'scale', null, undefined] as const) {
      expect(usageFromOpenAI(completion(usage, { service_tier: tier })).serviceTier).toBe('standard');
    }
  });

  it('takes the tier from options first (a Batch API result says default)', () => {
    const usage = { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 } satisfies CompletionUsage;
    expect(usageFromOpenAI(completion(usage, { service_tier: 'default' }), { serviceTier: 'batch' })).toEqual({
      provider: 'openai',
      model: 'gpt-4o-2024-08-06',
      serviceTier: 'batch',
      inputTokens: 100,
      cachedInputTokens: 0,
      outputTokens: 20,
      reasoningTokens: 0,
      ...zeroExtras,
    });
  });

  it('refuses a service_tier it cannot price', () => {
    const usage = { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } satisfies CompletionUsage;
    const odd = completion(usage, { service_tier: 'turbo' as unknown as ChatCompletion['service_tier'] });
    expect(refusal(() => usageFromOpenAI(odd)).field).toBe('service_tier');
    const badOption = { serviceTier: 'cheap' } as unknown as { serviceTier: 'batch' };
    expect(refusal(() => usageFromOpenAI(completion(usage), badOption)).field).toBe('options.serviceTier');
  });

  const base = { prompt_tokens: 100, completion_tokens: 50, total_tokens: 150 } satisfies CompletionUsage;
  it.each<[string, CompletionUsage, string, RegExp]>([
    ['a negative total', { ...base, prompt_tokens: -1, total_tokens: 49 }, 'usage.prompt_tokens', /is negative/],
    ['a NaN total', { ...base, completion_tokens: Number.NaN }, 'usage.completion_tokens', /is not a finite number/],
    ['an infinite total', { ...base, prompt_tokens: Number.POSITIVE_INFINITY }, 'usage.prompt_tokens', /is not a finite number/],
    ['a fractional total', { ...base, prompt_tokens: 99.5 }, 'usage.prompt_tokens', /is not a whole number/],
    ['an unsafe integer', { ...base, prompt_tokens: 2 ** 53 }, 'usage.prompt_tokens', /too large/],
    ['a negative detail', { ...base, prompt_tokens_details: { cached_tokens: -3 } }, 'usage.prompt_tokens_details.cached_tokens', /is negative/],
    ['a fractional detail', { ...base, completion_tokens_details: { reasoning_tokens: 1.5 } }, 'usage.completion_tokens_details.reasoning_tokens', /whole number/],
    ['cached > prompt_tokens', { ...base, prompt_tokens_details: { cached_tokens: 101 } }, 'usage.prompt_tokens_details.cached_tokens', /is larger than usage\.prompt_tokens/],
    ['reasoning > completion_tokens', { ...base, completion_tokens_details: { reasoning_tokens: 51 } }, 'usage.completion_tokens_details.reasoning_tokens', /is larger than usage\.completion_tokens/],
    ['a total_tokens that is not prompt + completion', { ...base, total_tokens: 151 }, 'usage.total_tokens', /not the sum of its parts/],
    ['a missing prompt_tokens', { completion_tokens: 50, total_tokens: 50 } as CompletionUsage, 'usage.prompt_tokens', /is missing/],
    ['a missing completion_tokens', { prompt_tokens: 100, total_tokens: 100 } as CompletionUsage, 'usage.completion_tokens', /is missing/],
    ['a count given as text', { ...base, prompt_tokens: '100' as unknown as number }, 'usage.prompt_tokens', /is not a number/],
  ])('refuses %s', (_name, usage, field, rule) => {
    const error = refusal(() => usageFromOpenAI(completion(usage)));
    expect(error.field).toBe(field);
    expect(error.rule).toMatch(rule);
    expect(error.message).toMatch(/\(openai usage\)$/);
  });
});

describe('usageFromOpenAI: Responses API', () => {
  const usage = {
    input_tokens: 5000,
    input_tokens_details: { cached_tokens: 4096, cache_write_tokens: 0 },
    output_tokens: 900,
    output_tokens_details: { reasoning_tokens: 640 },
    total_tokens: 5900,
  } satisfies ResponseUsage;

  it('takes cached and reasoning tokens out of the totals and counts web searches', () => {
    expect(usageFromOpenAI(response(usage))).toEqual({
      provider: 'openai',
      model: 'o4-mini',
      serviceTier: 'standard',
      inputTokens: 904,
      cachedInputTokens: 4096,
      cacheWriteTokens: 0,
      cacheWrite1hTokens: 0,
      outputTokens: 260,
      reasoningTokens: 640,
      webSearchRequests: 1,
      toolRequests: 0,
    });
  });

  it('counts file_search_call items as tool requests, and takes the tier from service_tier', () => {
    const withFiles = response(usage, {
      service_tier: 'priority',
      output: [
        { id: 'fs_1', type: 'file_search_call', status: 'completed', queries: ['refund policy'] },
        { id: 'fs_2', type: 'file_search_call', status: 'completed', queries: ['returns'], results: null },
        { id: 'ws_1', type: 'web_search_call', status: 'completed', action: { type: 'search', query: 'a' } },
        { id: 'ws_2', type: 'web_search_call', status: 'completed', action: { type: 'open_page', url: 'https://example.com' } },
      ],
    });
    expect(usageFromOpenAI(withFiles)).toMatchObject({ serviceTier: 'priority', webSearchRequests: 2, toolRequests: 2 });
  });

  it('leaves cache writes in the input (OpenAI bills them as plain input)', () => {
    const written = { ...usage, input_tokens_details: { cached_tokens: 0, cache_write_tokens: 4096 } } satisfies ResponseUsage;
    expect(usageFromOpenAI(response(written, { output: [] }))).toEqual({
      provider: 'openai',
      model: 'o4-mini',
      serviceTier: 'standard',
      inputTokens: 5000,
      cachedInputTokens: 0,
      cacheWriteTokens: 0,
      cacheWrite1hTokens: 0,
      outputTokens: 260,
      reasoningTokens: 640,
      webSearchRequests: 0,
      toolRequests: 0,
    });
  });

  it('accepts the response of a response.completed stream event, with the batch tier from options', () => {
    const event = { type: 'response.completed', sequence_number: 42, response: response(usage, { service_tier: 'flex' }) } as const;
    expect(usageFromOpenAI(event.response).serviceTier).toBe('flex');
    expect(usageFromOpenAI(event.response, { serviceTier: 'batch' }).serviceTier).toBe('batch');
  });

  it('refuses a response without usage (an event before response.completed)', () => {
    const error = refusal(() => usageFromOpenAI(response(undefined, { status: 'in_progress' })));
    expect(error.field).toBe('usage');
    expect(error.rule).toMatch(/response\.completed/);
  });

  it.each<[string, ResponseUsage, string, RegExp]>([
    ['a negative input_tokens', { ...usage, input_tokens: -5000 }, 'usage.input_tokens', /is negative/],
    ['a NaN output_tokens', { ...usage, output_tokens: Number.NaN }, 'usage.output_tokens', /finite/],
    ['a fractional cached_tokens', { ...usage, input_tokens_details: { cached_tokens: 0.5, cache_write_tokens: 0 } }, 'usage.input_tokens_details.cached_tokens', /whole number/],
    ['cached > input_tokens', { ...usage, input_tokens_details: { cached_tokens: 5001, cache_write_tokens: 0 } }, 'usage.input_tokens_details.cached_tokens', /is larger than usage\.input_tokens/],
    ['reasoning > output_tokens', { ...usage, output_tokens_details: { reasoning_tokens: 901 } }, 'usage.output_tokens_details.reasoning_tokens', /is larger than usage\.output_tokens/],
    ['a total_tokens that disagrees', { ...usage, total_tokens: 5000 }, 'usage.total_tokens', /not the sum of its parts/],
    ['a missing input_tokens', { ...usage, input_tokens: undefined } as unknown as ResponseUsage, 'usage.input_tokens', /is missing/],
    ['a missing output_tokens', { ...usage, output_tokens: undefined } as unknown as ResponseUsage, 'usage.output_tokens', /is missing/],
  ])('refuses %s', (_name, bad, field, rule) => {
    const error = refusal(() => usageFromOpenAI(response(bad)));
    expect(error.field).toBe(field);
    expect(error.rule).toMatch(rule);
  });
});
