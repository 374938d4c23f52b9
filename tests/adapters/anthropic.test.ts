import type {
  Message,
  MessageDeltaUsage,
  MessageStreamEvent,
  RawMessageDeltaEvent,
  RawMessageStartEvent,
  Usage,
} from '@anthropic-ai/sdk/resources/messages';
import { describe, expect, it } from 'vitest';
import { usageFromAnthropic } from '../../src/adapters/anthropic.js';
import { ProviderUsageError, type ProviderUsage } from '../../src/adapters/contract.js';

// Payloads shaped as the SDK declares them (`satisfies` lets the compiler
// check every field), with the counts a real response would carry.

const plainUsage = {
  cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
  cache_creation_input_tokens: 0,
  cache_read_input_tokens: 0,
  inference_geo: null,
  input_tokens: 1200,
  output_tokens: 350,
  output_tokens_details: null,
  server_tool_use: null,
  service_tier: 'standard',
  speed: null,
} satisfies Usage;

function message(usage: Usage, model = 'claude-sonnet-4-6'): Message {
  return {
    id: 'msg_01',
    container: null,
    content: [{ type: 'text', text: 'Hello.', citations: null }],
    diagnostics: null,
    model,
    role: 'assistant',
    stop_details: null,
    stop_reason: 'end_turn',
    stop_sequence: null,
    type: 'message',
    usage,
  } satisfies Message;
}

/** The plain usage with some fields replaced, for refusals (values may break the declared types on purpose). */
const withUsage = (fields: Record<string, unknown>): Message => message({ ...plainUsage, ...fields } as Usage);

const expected = (fields: Partial<ProviderUsage>): ProviderUsage => ({
  provider: 'anthropic',
  model: 'claude-sonnet-4-6',
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

describe('usageFromAnthropic: messages', () => {
  it('reads a plain message', () => {
    expect(usageFromAnthropic(message(plainUsage, ' Claude-Sonnet-4-6'))).toEqual(expected({ inputTokens: 1200, outputTokens: 350 }));
  });

  it('reads cache reads, 5m and 1h cache writes and web searches without subtracting anything', () => {
    const usage = {
      cache_creation: { ephemeral_5m_input_tokens: 1500, ephemeral_1h_input_tokens: 2500 },
      cache_creation_input_tokens: 4000,
      cache_read_input_tokens: 30_000,
      inference_geo: 'us',
      input_tokens: 850,
      output_tokens: 620,
      output_tokens_details: null,
      server_tool_use: { web_search_requests: 3, web_fetch_requests: 2 },
      service_tier: 'priority',
      speed: 'standard',
    } satisfies Usage;
    const withSearch: Message = {
      ...message(usage, 'claude-opus-4-6'),
      content: [
        { type: 'server_tool_use', id: 'srvtoolu_01', caller: { type: 'direct' }, input: { query: 'weather' }, name: 'web_search' },
        {
          type: 'web_search_tool_result',
          caller: { type: 'direct' },
          tool_use_id: 'srvtoolu_01',
          content: [{ type: 'web_search_result', encrypted_content: 'x', page_age: null, title: 'Weather', url: 'https://example.com' }],
        },
        { type: 'text', text: 'Sunny.', citations: null },
      ],
    } satisfies Message;
    expect(usageFromAnthropic(withSearch)).toEqual(
      expected({
        model: 'claude-opus-4-6',
        serviceTier: 'priority',
        inputTokens: 850,
        cachedInputTokens: 30_000,
        cacheWriteTokens: 4000,
        cacheWrite1hTokens: 2500,
        outputTokens: 620,
        webSearchRequests: 3,
      }),
    );
  });

  it('splits thinking out of output_tokens when the response breaks it down', () => {
    const usage = { ...plainUsage, output_tokens: 900, output_tokens_details: { thinking_tokens: 700 } } satisfies Usage;
    expect(usageFromAnthropic(message(usage))).toEqual(expected({ inputTokens: 1200, outputTokens: 200, reasoningTokens: 700 }));
  });

  it('counts all of output_tokens as output when there is no breakdown (thinking included)', () => {
    const usage = { ...plainUsage, output_tokens: 900, output_tokens_details: null } satisfies Usage;
    expect(usageFromAnthropic(message(usage))).toEqual(expected({ inputTokens: 1200, outputTokens: 900 }));
  });

  it('reads a batch result, and lets options.serviceTier win over the reported tier', () => {
    const batch = { ...plainUsage, service_tier: 'batch' } satisfies Usage;
    expect(usageFromAnthropic(message(batch))).toEqual(expected({ serviceTier: 'batch', inputTokens: 1200, outputTokens: 350 }));
    const unsaid = { ...plainUsage, service_tier: 'standard' } satisfies Usage;
    expect(usageFromAnthropic(message(unsaid), { serviceTier: 'batch' })).toEqual(
      expected({ serviceTier: 'batch', inputTokens: 1200, outputTokens: 350 }),
    );
  });

  it('reads a null tier, null cache counts and no breakdown as standard and 0', () => {
    const usage = {
      ...plainUsage,
      cache_creation: null,
      cache_creation_input_tokens: null,
      cache_read_input_tokens: null,
      service_tier: null,
    } satisfies Usage;
    expect(usageFromAnthropic(message(usage))).toEqual(expected({ inputTokens: 1200, outputTokens: 350 }));
  });

  it('takes the 5m/1h sum when cache_creation_input_tokens is null', () => {
    const usage = {
      ...plainUsage,
      cache_creation: { ephemeral_5m_input_tokens: 100, ephemeral_1h_input_tokens: 50 },
      cache_creation_input_tokens: null,
    } satisfies Usage;
    expect(usageFromAnthropic(message(usage))).toEqual(
      expected({ inputTokens: 1200, cacheWriteTokens: 150, cacheWrite1hTokens: 50, outputTokens: 350 }),
    );
  });

  it('takes cache_creation_input_tokens as all 5-minute writes when there is no breakdown', () => {
    const usage = { ...plainUsage, cache_creation: null, cache_creation_input_tokens: 400 } satisfies Usage;
    expect(usageFromAnthropic(message(usage))).toEqual(expected({ inputTokens: 1200, cacheWriteTokens: 400, outputTokens: 350 }));
  });
});

describe('usageFromAnthropic: refusals', () => {
  it.each([
    ['negative', -1, 'is negative (-1)'],
    ['NaN', Number.NaN, 'is not a finite number (NaN)'],
    ['not a whole number', 2.5, 'is not a whole number (2.5)'],
    ['infinite', Number.POSITIVE_INFINITY, 'is not a finite number (Infinity)'],
    ['a string', '12', 'is not a number ("12")'],
    ['beyond the safe integers', 2 ** 53, `is too large to count exactly (${2 ** 53})`],
  ])('refuses a count that is %s', (_, value, rule) => {
    const error = refusal(() => usageFromAnthropic(withUsage({ cache_read_input_tokens: value })));
    expect(error.field).toBe('usage.cache_read_input_tokens');
    expect(error.rule).toBe(`${rule} (anthropic usage)`);
  });

  it.each([
    ['input_tokens', { input_tokens: -5 }, 'usage.input_tokens'],
    ['output_tokens', { output_tokens: 1.5 }, 'usage.output_tokens'],
    ['cache_creation_input_tokens', { cache_creation: null, cache_creation_input_tokens: -1 }, 'usage.cache_creation_input_tokens'],
    ['ephemeral_1h_input_tokens', { cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: Number.NaN } }, 'usage.cache_creation.ephemeral_1h_input_tokens'],
    ['web_search_requests', { server_tool_use: { web_search_requests: -2, web_fetch_requests: 0 } }, 'usage.server_tool_use.web_search_requests'],
    ['thinking_tokens', { output_tokens_details: { thinking_tokens: 0.5 } }, 'usage.output_tokens_details.thinking_tokens'],
  ])('names the path of a bad %s', (_, fields, field) => {
    expect(refusal(() => usageFromAnthropic(withUsage(fields))).field).toBe(field);
  });

  it('refuses missing required totals', () => {
    expect(refusal(() => usageFromAnthropic(withUsage({ input_tokens: undefined }))).field).toBe('usage.input_tokens');
    expect(refusal(() => usageFromAnthropic(withUsage({ output_tokens: null }))).field).toBe('usage.output_tokens');
    expect(refusal(() => usageFromAnthropic({ ...message(plainUsage), usage: undefined } as unknown as Message)).field).toBe('usage');
    expect(refusal(() => usageFromAnthropic(message(plainUsage, ' '))).field).toBe('model');
  });

  it('refuses a 5m/1h split that does not add up to cache_creation_input_tokens', () => {
    const usage = {
      ...plainUsage,
      cache_creation: { ephemeral_5m_input_tokens: 100, ephemeral_1h_input_tokens: 50 },
      cache_creation_input_tokens: 120,
    } satisfies Usage;
    const error = refusal(() => usageFromAnthropic(message(usage)));
    expect(error.field).toBe('usage.cache_creation');
    expect(error.rule).toBe('adds up to 150 (5m 100 + 1h 50), but usage.cache_creation_input_tokens is 120 (anthropic usage)');
  });

  it('refuses thinking larger than the output it is part of', () => {
    const usage = { ...plainUsage, output_tokens: 100, output_tokens_details: { thinking_tokens: 101 } } satisfies Usage;
    const error = refusal(() => usageFromAnthropic(message(usage)));
    expect(error.field).toBe('usage.output_tokens_details.thinking_tokens');
    expect(error.rule).toBe('is larger than usage.output_tokens (101 > 100) (anthropic usage)');
  });

  it('refuses an unknown service tier unless options name one', () => {
    const odd = withUsage({ service_tier: 'turbo' });
    expect(refusal(() => usageFromAnthropic(odd)).field).toBe('usage.service_tier');
    expect(usageFromAnthropic(odd, { serviceTier: 'standard' }).serviceTier).toBe('standard');
  });
});

// A streamed answer with thinking, as the raw events arrive.
const startUsage = {
  cache_creation: { ephemeral_5m_input_tokens: 2000, ephemeral_1h_input_tokens: 1000 },
  cache_creation_input_tokens: 3000,
  cache_read_input_tokens: 12_000,
  inference_geo: null,
  input_tokens: 410,
  output_tokens: 1,
  output_tokens_details: null,
  server_tool_use: null,
  service_tier: 'standard',
  speed: null,
} satisfies Usage;

const startEvent = (usage: Usage = startUsage): RawMessageStartEvent =>
  ({
    type: 'message_start',
    message: { ...message(usage, 'claude-opus-4-6'), content: [], stop_reason: null },
  }) satisfies RawMessageStartEvent;

const deltaEvent = (usage: MessageDeltaUsage): RawMessageDeltaEvent =>
  ({
    type: 'message_delta',
    delta: { container: null, stop_details: null, stop_reason: 'end_turn', stop_sequence: null },
    usage,
  }) satisfies RawMessageDeltaEvent;

const contentEvents = [
  { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } },
  { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'Let me think.' } },
  { type: 'content_block_delta', index: 0, delta: { type: 'signature_delta', signature: 'sig' } },
  { type: 'content_block_stop', index: 0 },
  { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '', citations: null } },
  { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'Done.' } },
  { type: 'content_block_stop', index: 1 },
] satisfies MessageStreamEvent[];

const oldDelta = {
  cache_creation_input_tokens: null,
  cache_read_input_tokens: null,
  input_tokens: null,
  output_tokens: 780,
  output_tokens_details: null,
  server_tool_use: null,
} satisfies MessageDeltaUsage;

describe('usageFromAnthropic: streams', () => {
  it('reads a full stream whose delta carries only output_tokens', () => {
    const events = [startEvent(), ...contentEvents, deltaEvent(oldDelta), { type: 'message_stop' }] satisfies MessageStreamEvent[];
    expect(usageFromAnthropic(events)).toEqual(
      expected({
        model: 'claude-opus-4-6',
        inputTokens: 410,
        cachedInputTokens: 12_000,
        cacheWriteTokens: 3000,
        cacheWrite1hTokens: 1000,
        outputTokens: 780,
      }),
    );
  });

  it('takes, per figure, the last non-null value of the newer deltas that repeat input and cache counts', () => {
    const first = {
      cache_creation_input_tokens: 3000,
      cache_read_input_tokens: 12_000,
      input_tokens: 410,
      output_tokens: 300,
      output_tokens_details: { thinking_tokens: 250 },
      server_tool_use: { web_search_requests: 1, web_fetch_requests: 0 },
    } satisfies MessageDeltaUsage;
    const last = {
      cache_creation_input_tokens: null,
      cache_read_input_tokens: 12_500,
      input_tokens: 900,
      output_tokens: 780,
      output_tokens_details: { thinking_tokens: 500 },
      server_tool_use: null,
    } satisfies MessageDeltaUsage;
    const events = [startEvent(), ...contentEvents, deltaEvent(first), deltaEvent(last), { type: 'message_stop' }] satisfies MessageStreamEvent[];
    expect(usageFromAnthropic(events, { serviceTier: 'priority' })).toEqual(
      expected({
        model: 'claude-opus-4-6',
        serviceTier: 'priority',
        inputTokens: 900,
        cachedInputTokens: 12_500,
        cacheWriteTokens: 3000,
        cacheWrite1hTokens: 1000,
        outputTokens: 280,
        reasoningTokens: 500,
        webSearchRequests: 1,
      }),
    );
  });

  it('counts cache writes that only a delta reports beyond the split as 5-minute writes', () => {
    const grown = { ...oldDelta, cache_creation_input_tokens: 3600 } satisfies MessageDeltaUsage;
    expect(usageFromAnthropic([startEvent(), deltaEvent(grown)])).toMatchObject({ cacheWriteTokens: 3600, cacheWrite1hTokens: 1000 });
  });

  it('refuses a delta total smaller than the 1h writes of message_start', () => {
    const shrunk = { ...oldDelta, cache_creation_input_tokens: 900 } satisfies MessageDeltaUsage;
    const error = refusal(() => usageFromAnthropic([startEvent(), deltaEvent(shrunk)]));
    expect(error.field).toBe('events[0].message.usage.cache_creation.ephemeral_1h_input_tokens');
    expect(error.rule).toBe('is larger than events[1].usage.cache_creation_input_tokens (1000 > 900) (anthropic usage)');
  });

  it('refuses a stream that did not finish (no message_delta)', () => {
    const error = refusal(() => usageFromAnthropic([startEvent(), ...contentEvents]));
    expect(error.field).toBe('message_delta');
  });

  it('refuses a stream without message_start, an empty one, and two messages in one list', () => {
    expect(refusal(() => usageFromAnthropic([...contentEvents, deltaEvent(oldDelta)])).field).toBe('message_start');
    expect(refusal(() => usageFromAnthropic([])).field).toBe('message_start');
    expect(refusal(() => usageFromAnthropic([startEvent(), deltaEvent(oldDelta), startEvent(), deltaEvent(oldDelta)])).field).toBe('message_start');
  });

  it('names the event of a bad count', () => {
    const bad = { ...oldDelta, output_tokens: -3 } satisfies MessageDeltaUsage;
    expect(refusal(() => usageFromAnthropic([startEvent(), ...contentEvents, deltaEvent(bad)])).field).toBe('events[8].usage.output_tokens');
    const badStart = { ...startUsage, cache_read_input_tokens: Number.NaN } satisfies Usage;
    expect(refusal(() => usageFromAnthropic([startEvent(badStart), deltaEvent(oldDelta)])).field).toBe('events[0].message.usage.cache_read_input_tokens');
  });
});
