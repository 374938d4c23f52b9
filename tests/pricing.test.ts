// Prices that match the invoice: the shipped catalog loaded with syncPrices,
// conditional prices (service tier, long context, cache lifetime, extras),
// provider payloads through their adapters to the exact cost the providers'
// pricing pages give, the same figures by every path, BYOK, model names,
// and the LiteLLM importer.
import type { Message } from '@anthropic-ai/sdk/resources/messages';
import { GenerateContentResponse } from '@google/genai';
import type { LanguageModelUsage } from 'ai';
import type { ChatResponse } from 'ollama';
import type { ChatCompletion } from 'openai/resources/chat/completions';
import type { Response } from 'openai/resources/responses/responses';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  usageFromAiSdk,
  usageFromAnthropic,
  usageFromGemini,
  usageFromOllama,
  usageFromOpenAI,
  usageFromOpenRouter,
  type ProviderUsage,
} from '../src/adapters/index.js';
import { asService } from '../src/auth/withClaims.js';
import { ValidationError, pgErrorOf } from '../src/errors.js';
import { signUpLocal } from '../src/local/auth.js';
import { catalogFromLiteLLM, priceCatalog, syncPrices, type PriceCatalog } from '../src/pricing/index.js';
import { getQuotaStatus } from '../src/queries/quotas.js';
import { getMonthlyUsage, recordAdjustment, recordUsage } from '../src/queries/usage.js';
import { callFunction } from '../src/rpc.js';
import { databaseMigratedTo, freshDatabase, needsServer, sql, target, type TestDatabase } from './support/database.js';
import { addPrice } from './support/fixtures.js';

let t: TestDatabase;
let n = 0;
const key = () => `price-${++n}`;

async function newUser(): Promise<string> {
  return signUpLocal(t.db, { email: `pricing-${++n}@example.com` });
}

/** What each user's recorded requests came to, as recordUsage returned it. */
const recorded = new Map<string, { tokens: number; cost: bigint }>();

/** Records one request from an adapter's figures, as a backend does. */
async function record(userId: string, usage: ProviderUsage, extra: { byok?: boolean } = {}) {
  const r = await asService(t.db, (tx) => recordUsage(tx, { userId, idempotencyKey: key(), agentMode: 'implement', ...usage, ...extra }));
  const sum = recorded.get(userId) ?? { tokens: 0, cost: 0n };
  // Costs have 10 decimals: add them as integers of 1e-10 USD.
  recorded.set(userId, { tokens: sum.tokens + r.totalTokens, cost: sum.cost + units10(r.costUsd ?? '0') });
  return r;
}

/** An exact decimal string of at most 10 significant decimals, as an integer of 1e-10 USD. */
function units10(value: string): bigint {
  const [whole = '0', fraction = ''] = value.split('.');
  expect(fraction.slice(10)).toMatch(/^0*$/);
  return BigInt(whole + fraction.padEnd(10, '0').slice(0, 10));
}

const usd10 = (units: bigint) => `${units / 10_000_000_000n}.${(units % 10_000_000_000n).toString().padStart(10, '0')}`;

beforeAll(async () => {
  t = await freshDatabase();
  const loaded = await asService(t.db, (tx) => syncPrices(tx, priceCatalog));
  expect(loaded.inserted).toBeGreaterThan(100);
});
afterAll(() => t?.close());

// ---------------------------------------------------------------------------
// Payloads shaped as the SDKs declare them.

function chatCompletion(model: string, usage: ChatCompletion['usage'], serviceTier?: ChatCompletion['service_tier']): ChatCompletion {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion',
    created: 1_764_000_000,
    model,
    choices: [{ index: 0, finish_reason: 'stop', logprobs: null, message: { role: 'assistant', content: 'ok', refusal: null } }],
    usage,
    ...(serviceTier ? { service_tier: serviceTier } : {}),
  };
}

function anthropicMessage(model: string, usage: Partial<Message['usage']>): Message {
  return {
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text: 'ok', citations: null }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: {
      input_tokens: 0,
      output_tokens: 0,
      cache_creation_input_tokens: null,
      cache_read_input_tokens: null,
      cache_creation: null,
      server_tool_use: null,
      service_tier: 'standard',
      ...usage,
    } as Message['usage'],
  } as Message;
}

function geminiResponse(modelVersion: string, usageMetadata: GenerateContentResponse['usageMetadata']): GenerateContentResponse {
  const response = new GenerateContentResponse();
  response.modelVersion = modelVersion;
  response.candidates = [{ content: { role: 'model', parts: [{ text: 'ok' }] }, finishReason: 'STOP' as never, index: 0 }];
  response.usageMetadata = usageMetadata;
  return response;
}

// ---------------------------------------------------------------------------

describe('golden costs: a documented request of each provider, through its adapter, to the last digit', () => {
  it('OpenAI gpt-5: cached prompt and reasoning counted once; standard, batch, flex and priority', async () => {
    const user = await newUser();
    // 120,000 prompt tokens of which 100,000 cached; 8,000 completion tokens of which 6,000 reasoning.
    // Standard ($1.25 in, $0.125 cached, $10 out per MTok): 20,000 x 1.25 + 100,000 x 0.125 + 8,000 x 10 = $0.1175.
    const response = chatCompletion('gpt-5-2025-08-07', {
      prompt_tokens: 120_000,
      completion_tokens: 8_000,
      total_tokens: 128_000,
      prompt_tokens_details: { cached_tokens: 100_000 },
      completion_tokens_details: { reasoning_tokens: 6_000 },
    });
    const usage = usageFromOpenAI(response);
    expect(usage).toMatchObject({ provider: 'openai', model: 'gpt-5-2025-08-07', inputTokens: 20_000, cachedInputTokens: 100_000, outputTokens: 2_000, reasoningTokens: 6_000 });
    const standard = await record(user, usage);
    expect([standard.costSource, standard.costUsd, standard.totalTokens]).toEqual(['price_table', '0.1175000000', 128_000]);
    // Batch API: half of every rate, $0.05875. Flex bills the same as batch for gpt-5.
    expect((await record(user, usageFromOpenAI(response, { serviceTier: 'batch' }))).costUsd).toBe('0.0587500000');
    expect((await record(user, usageFromOpenAI(chatCompletion('gpt-5', response.usage, 'flex')))).costUsd).toBe('0.0587500000');
    // Priority: $2.50 / $0.25 / $20, $0.235.
    expect((await record(user, usageFromOpenAI(chatCompletion('gpt-5', response.usage, 'priority')))).costUsd).toBe('0.2350000000');
  });

  it('OpenAI Responses gpt-4.1 with web search and file search calls, priced per call', async () => {
    const user = await newUser();
    const response = {
      id: 'resp_1',
      object: 'response',
      created_at: 1_764_000_000,
      model: 'gpt-4.1-2025-04-14',
      status: 'completed',
      output_text: 'ok',
      output: [
        { type: 'web_search_call', id: 'ws_1', status: 'completed', action: { type: 'search', query: 'a' } },
        { type: 'web_search_call', id: 'ws_2', status: 'completed', action: { type: 'search', query: 'b' } },
        { type: 'file_search_call', id: 'fs_1', status: 'completed', queries: ['c'], results: null },
      ],
      usage: {
        input_tokens: 10_000,
        input_tokens_details: { cached_tokens: 2_000, cache_write_tokens: 0 },
        output_tokens: 1_000,
        output_tokens_details: { reasoning_tokens: 0 },
        total_tokens: 11_000,
      },
    } as unknown as Response;
    // 8,000 x $2 + 2,000 x $0.50 + 1,000 x $8 per MTok = $0.025; 2 searches at $25 per thousand = $0.05;
    // one file search at $2.50 per thousand = $0.0025. $0.0775.
    const r = await record(user, usageFromOpenAI(response));
    expect(r.costUsd).toBe('0.0775000000');
  });

  it('Anthropic claude-sonnet-4.5: cache reads, 5-minute and 1-hour writes, web search; long context above 200k', async () => {
    const user = await newUser();
    const message = anthropicMessage('claude-sonnet-4-5-20250929', {
      input_tokens: 50_000,
      cache_read_input_tokens: 100_000,
      cache_creation_input_tokens: 30_000,
      cache_creation: { ephemeral_5m_input_tokens: 20_000, ephemeral_1h_input_tokens: 10_000 },
      output_tokens: 3_000,
      server_tool_use: { web_search_requests: 2, web_fetch_requests: 0 } as never,
    });
    const usage = usageFromAnthropic(message);
    expect(usage).toMatchObject({ inputTokens: 50_000, cachedInputTokens: 100_000, cacheWriteTokens: 30_000, cacheWrite1hTokens: 10_000, outputTokens: 3_000, webSearchRequests: 2 });
    // $3 in, $0.30 read, $3.75 5m write, $6 1h write, $15 out per MTok; $10 per thousand searches:
    // 0.15 + 0.03 + 0.075 + 0.06 + 0.045 + 0.02 = $0.38 (prompt 180,000 tokens: base rates).
    expect((await record(user, usage)).costUsd).toBe('0.3800000000');

    // Prompt of 210,000 tokens (150,000 input + 60,000 cache reads) is over 200k: every token at the
    // long-context rates ($6 in, $0.60 read, $22.50 out): 0.9 + 0.036 + 0.045 = $0.981.
    const long = usageFromAnthropic(anthropicMessage('claude-sonnet-4-5', { input_tokens: 150_000, cache_read_input_tokens: 60_000, output_tokens: 2_000 }));
    expect((await record(user, long)).costUsd).toBe('0.9810000000');
    // Exactly 200,000 is not over: 0.57 + 0.003 + 0.03 = $0.603 at base rates.
    const edge = usageFromAnthropic(anthropicMessage('claude-sonnet-4-5', { input_tokens: 190_000, cache_read_input_tokens: 10_000, output_tokens: 2_000 }));
    expect((await record(user, edge)).costUsd).toBe('0.6030000000');
    // Extended thinking: 3,000 output tokens of which 2,000 thinking, all billed as output ($15): $0.045,
    // with the thinking counted as reasoning and not again as output.
    const thinking = usageFromAnthropic(
      anthropicMessage('claude-sonnet-4-5', { input_tokens: 0, output_tokens: 3_000, output_tokens_details: { thinking_tokens: 2_000 } } as never),
    );
    expect(thinking).toMatchObject({ outputTokens: 1_000, reasoningTokens: 2_000 });
    expect((await record(user, thinking)).costUsd).toBe('0.0450000000');
  });

  it('Anthropic claude-haiku-4.5 through Message Batches: half price', async () => {
    const user = await newUser();
    // Batch: $0.50 in, $2.50 out per MTok. 100,000 in + 20,000 out = 0.05 + 0.05 = $0.10.
    const usage = usageFromAnthropic(anthropicMessage('claude-haiku-4-5', { input_tokens: 100_000, output_tokens: 20_000, service_tier: 'batch' }));
    expect(usage.serviceTier).toBe('batch');
    expect((await record(user, usage)).costUsd).toBe('0.1000000000');
  });

  it('Gemini 2.5 Pro: thoughts billed as output, cached content, the higher rates above 200k prompt tokens', async () => {
    const user = await newUser();
    // 10,000 prompt tokens, 300 candidates, 500 thoughts at $1.25 / $10: 0.0125 + 0.008 = $0.0205.
    const small = usageFromGemini(geminiResponse('gemini-2.5-pro', { promptTokenCount: 10_000, candidatesTokenCount: 300, thoughtsTokenCount: 500, totalTokenCount: 10_800 }));
    expect(small).toMatchObject({ provider: 'google', model: 'gemini-2.5-pro', inputTokens: 10_000, outputTokens: 300, reasoningTokens: 500 });
    expect((await record(user, small)).costUsd).toBe('0.0205000000');
    // 250,000 prompt tokens of which 50,000 cached; 1,000 candidates, 4,000 thoughts. Over 200k:
    // $2.50 in, $0.25 cached, $15 out: 0.5 + 0.0125 + 0.075 = $0.5875.
    const large = usageFromGemini(
      geminiResponse('gemini-2.5-pro', { promptTokenCount: 250_000, cachedContentTokenCount: 50_000, candidatesTokenCount: 1_000, thoughtsTokenCount: 4_000, totalTokenCount: 255_000 }),
    );
    expect((await record(user, large)).costUsd).toBe('0.5875000000');
    // Gemini 2.5 Flash in Batch Mode: $0.15 / $1.25. 1,000,000 in + 100,000 out = $0.275.
    const batch = usageFromGemini(geminiResponse('gemini-2.5-flash', { promptTokenCount: 1_000_000, candidatesTokenCount: 100_000, totalTokenCount: 1_100_000 }), { serviceTier: 'batch' });
    expect((await record(user, batch)).costUsd).toBe('0.2750000000');
  });

  it('Ollama: a local model costs nothing and its tokens still count', async () => {
    const user = await newUser();
    const response = {
      model: 'Llama3.1:8B',
      created_at: new Date(),
      message: { role: 'assistant', content: 'ok' },
      done: true,
      done_reason: 'stop',
      total_duration: 1,
      load_duration: 1,
      prompt_eval_count: 1_200,
      prompt_eval_duration: 1,
      eval_count: 300,
      eval_duration: 1,
    } as ChatResponse;
    const r = await record(user, usageFromOllama(response));
    expect([r.costSource, r.costUsd, r.totalTokens]).toEqual(['free_local', '0.0000000000', 1_500]);
  });

  it('OpenRouter: the cost it reports is the cost recorded, to the last digit', async () => {
    const user = await newUser();
    const response = chatCompletion('anthropic/claude-sonnet-4.5', {
      prompt_tokens: 100,
      completion_tokens: 20,
      total_tokens: 120,
      cost: 0.000315,
    } as ChatCompletion['usage']);
    const r = await record(user, usageFromOpenRouter(response));
    expect([r.costSource, r.costUsd]).toEqual(['given', '0.0003150000']);
  });

  it('DeepSeek (OpenAI format): cache hits at the hit price, misses at the input price', async () => {
    const user = await newUser();
    // 10,000 prompt tokens of which 6,000 cache hits; 1,000 output. $0.028 hit, $0.28 miss, $0.42 out:
    // 0.000168 + 0.00112 + 0.00042 = $0.001708.
    const response = chatCompletion('deepseek-chat', { prompt_tokens: 10_000, completion_tokens: 1_000, total_tokens: 11_000, prompt_tokens_details: { cached_tokens: 6_000 } });
    const r = await record(user, usageFromOpenAI(response, { provider: 'deepseek' }));
    expect(r.costUsd).toBe('0.0017080000');
    // deepseek-reasoner: 1,000 prompt tokens (no hits), 3,000 completion tokens of which 2,500 reasoning, all at $0.42:
    // 0.00028 + 0.00126 = $0.00154.
    const reasoner = chatCompletion('deepseek-reasoner', { prompt_tokens: 1_000, completion_tokens: 3_000, total_tokens: 4_000, completion_tokens_details: { reasoning_tokens: 2_500 } });
    expect((await record(user, usageFromOpenAI(reasoner, { provider: 'deepseek' }))).costUsd).toBe('0.0015400000');
  });

  it('Mistral through the AI SDK: $2 in, $6 out', async () => {
    const user = await newUser();
    const usage: LanguageModelUsage = {
      inputTokens: 1_000,
      inputTokenDetails: { noCacheTokens: 1_000, cacheReadTokens: 0, cacheWriteTokens: 0 },
      outputTokens: 500,
      outputTokenDetails: { textTokens: 500, reasoningTokens: 0 },
      totalTokens: 1_500,
    };
    const r = await record(user, usageFromAiSdk(usage, { provider: 'mistral.chat', model: 'mistral-large-latest' }));
    expect(r.costUsd).toBe('0.0050000000');
  });
});

describe('the same figures by every path', () => {
  it("every golden request's cost and tokens add up, exactly, in the daily totals, get_monthly_usage and the monthly view", async () => {
    expect(recorded.size).toBeGreaterThanOrEqual(9);
    for (const [user, sum] of recorded) {
      const [daily] = await t.rows<{ tokens: string; cost: string }>(
        sql`select sum(total_tokens)::text as tokens, sum(cost_usd)::numeric(30, 10)::text as cost from ai_usage_daily where user_id = ${user}`,
      );
      const monthly = await getMonthlyUsage(t.db, { userId: user });
      const [view] = await t.rows<{ tokens: string; cost: string }>(
        sql`select sum(total_tokens)::text as tokens, sum(cost_usd)::numeric(30, 10)::text as cost from ai_usage_monthly where user_id = ${user}`,
      );
      const monthlyCost = monthly.reduce((a, m) => a + units10(m.costUsd), 0n);
      expect(daily).toEqual({ tokens: String(sum.tokens), cost: usd10(sum.cost) });
      expect(view).toEqual({ tokens: String(sum.tokens), cost: usd10(sum.cost) });
      expect([monthly.reduce((a, m) => a + m.totalTokens, 0), usd10(monthlyCost)]).toEqual([sum.tokens, usd10(sum.cost)]);
    }
  });

  it('adapter + recordUsage, record_usage through rpc and in SQL, the daily totals, get_monthly_usage and the monthly view', async () => {
    const user = await newUser();
    const usage = usageFromAnthropic(
      anthropicMessage('claude-sonnet-4-5', {
        input_tokens: 1_000,
        cache_read_input_tokens: 2_000,
        cache_creation_input_tokens: 3_000,
        cache_creation: { ephemeral_5m_input_tokens: 1_000, ephemeral_1h_input_tokens: 2_000 },
        output_tokens: 400,
        server_tool_use: { web_search_requests: 1, web_fetch_requests: 0 } as never,
      }),
    );
    // 0.003 + 0.0006 + 0.00375 + 0.012 + 0.006 + 0.01 = $0.03535
    const viaTs = await record(user, usage);
    const [viaRpc] = await asService(t.db, (tx) =>
      callFunction(tx, 'record_usage', {
        p_user_id: user,
        p_idempotency_key: key(),
        p_provider: 'anthropic',
        p_model: 'claude-sonnet-4-5',
        p_agent_mode: 'implement',
        p_input_tokens: 1_000,
        p_cached_input_tokens: 2_000,
        p_cache_write_tokens: 3_000,
        p_cache_write_1h_tokens: 2_000,
        p_output_tokens: 400,
        p_web_search_requests: 1,
      }),
    );
    const [viaSql] = await t.rows<{ cost_usd: string; total_tokens: number }>(sql`select cost_usd::text, total_tokens from public.record_usage(
        p_user_id => ${user}, p_idempotency_key => ${key()}, p_provider => 'anthropic', p_model => ' Claude-Sonnet-4-5 ',
        p_agent_mode => 'implement', p_input_tokens => 1000, p_cached_input_tokens => 2000, p_cache_write_tokens => 3000,
        p_cache_write_1h_tokens => 2000, p_output_tokens => 400, p_web_search_requests => 1)`);
    for (const cost of [viaTs.costUsd, viaRpc!.cost_usd, viaSql!.cost_usd]) expect(cost).toBe('0.0353500000');
    expect([viaTs.totalTokens, viaRpc!.total_tokens, Number(viaSql!.total_tokens)]).toEqual([6_400, 6_400, 6_400]);

    const [daily] = await t.rows<Record<string, string>>(sql`select sum(request_count)::text as requests, sum(total_tokens)::text as tokens,
        sum(cost_usd)::text as cost, sum(cache_write_1h_tokens)::text as write_1h, sum(web_search_requests)::text as searches
      from ai_usage_daily where user_id = ${user}`);
    expect(daily).toEqual({ requests: '3', tokens: '19200', cost: '0.1060500000', write_1h: '6000', searches: '3' });
    const [monthly] = await getMonthlyUsage(t.db, { userId: user });
    expect(monthly).toMatchObject({ model: 'claude-sonnet-4-5', requestCount: 3, totalTokens: 19_200, costUsd: '0.1060500000', cacheWrite1hTokens: 6_000, webSearchRequests: 3 });
    const [view] = await t.rows<Record<string, string>>(sql`select total_tokens::text as tokens, cost_usd::text as cost, cache_write_1h_tokens::text as write_1h
      from ai_usage_monthly where user_id = ${user}`);
    expect(view).toEqual({ tokens: '19200', cost: '0.1060500000', write_1h: '6000' });
  });
});

describe('conditional prices', () => {
  it('a tier without a price row is unpriced, never charged at another tier', async () => {
    const user = await newUser();
    // Anthropic has no flex tier.
    const r = await record(user, { ...usageFromAnthropic(anthropicMessage('claude-sonnet-4-5', { input_tokens: 100, output_tokens: 10 })), serviceTier: 'flex' });
    expect([r.costSource, r.costUsd]).toEqual(['unpriced', null]);
  });

  it('1-hour cache writes, web searches or tool calls that the price row has no rate for leave the request unpriced', async () => {
    const user = await newUser();
    const mistral = { provider: 'mistral', model: 'mistral-large-latest', inputTokens: 100, outputTokens: 10 };
    expect((await asService(t.db, (tx) => recordUsage(tx, { ...mistral, userId: user, idempotencyKey: key(), agentMode: 'debug' }))).costSource).toBe('price_table');
    for (const extra of [{ cacheWriteTokens: 10, cacheWrite1hTokens: 5 }, { webSearchRequests: 1 }, { toolRequests: 1 }]) {
      const r = await asService(t.db, (tx) => recordUsage(tx, { ...mistral, ...extra, userId: user, idempotencyKey: key(), agentMode: 'debug' }));
      expect([r.costSource, r.costUsd]).toEqual(['unpriced', null]);
    }
    const [e] = await t.rows<{ unpriced: number }>(sql`select sum(unpriced_count)::int as unpriced from ai_usage_daily where user_id = ${user}`);
    expect(e!.unpriced).toBe(3);
  });

  it('rows written before conditional prices existed (standard tier, no threshold, no 1-hour rate) keep pricing', async () => {
    const user = await newUser();
    await addPrice(t, { provider: 'openai', model: 'legacy-model', effectiveFrom: '2025-01-01', inputPerMtok: 1, outputPerMtok: 2 });
    const r = await recordUsage(t.db, { userId: user, idempotencyKey: key(), provider: 'openai', model: 'legacy-model', agentMode: 'debug', inputTokens: 1_000_000, outputTokens: 1_000_000 });
    expect(r.costUsd).toBe('3.0000000000');
  });

  it('the event keeps the price row it was charged at', async () => {
    const user = await newUser();
    const r = await record(user, usageFromAnthropic(anthropicMessage('claude-sonnet-4-5', { input_tokens: 250_000, output_tokens: 1 })));
    const [row] = await t.rows<{ min_context_tokens: string; input_per_mtok: string; service_tier: string }>(sql`select p.min_context_tokens::text, p.input_per_mtok::text, e.service_tier::text
      from ai_usage_events e join model_prices p on p.id = e.price_id where e.id = ${r.eventId}`);
    expect(row).toEqual({ min_context_tokens: '200001', input_per_mtok: '6.000000', service_tier: 'standard' });
  });

  it('1-hour writes beyond the cache writes are refused, in TypeScript and in SQL, naming the field', async () => {
    const user = await newUser();
    const input = { userId: user, idempotencyKey: key(), provider: 'anthropic', model: 'claude-sonnet-4-5', agentMode: 'debug' as const, cacheWriteTokens: 5, cacheWrite1hTokens: 6 };
    await expect(recordUsage(t.db, input)).rejects.toMatchObject({ field: 'cache_write_1h_tokens' });
    await expect(
      t.rows(sql`select * from public.record_usage(p_user_id => ${user}, p_idempotency_key => ${key()}, p_provider => 'anthropic',
        p_model => 'claude-sonnet-4-5', p_agent_mode => 'debug', p_cache_write_tokens => 5, p_cache_write_1h_tokens => 6)`),
    ).rejects.toThrow(/cache_write_1h_tokens/);
    await expect(recordUsage(t.db, { ...input, cacheWrite1hTokens: 0, webSearchRequests: -1 })).rejects.toMatchObject({ field: 'web_search_requests' });
    await expect(recordUsage(t.db, { ...input, cacheWrite1hTokens: 0, serviceTier: 'turbo' as never })).rejects.toMatchObject({ field: 'service_tier' });
    const [c] = await t.rows<{ n: number }>(sql`select count(*)::int as n from ai_usage_events where user_id = ${user}`);
    expect(c!.n).toBe(0);
  });
});

describe('record_usage checks the event row itself (the events table has no CHECK constraints)', () => {
  it('refuses, in SQL, what a CHECK used to catch, naming the field, and writes nothing', async () => {
    const user = await newUser();
    const call = (args: string) =>
      t.rows(sql.raw(`select * from public.record_usage(p_user_id => '${user}', p_provider => 'openai', p_agent_mode => 'debug', ${args})`));
    for (const [args, field] of [
      [`p_idempotency_key => 'k-1', p_model => 'gpt-4o', p_error_code => repeat('x', 201)`, 'error_code'],
      [`p_idempotency_key => repeat('k', 201), p_model => 'gpt-4o'`, 'idempotency_key'],
      [`p_idempotency_key => 'k-2', p_model => '   '`, 'model'],
      [`p_idempotency_key => 'k-3', p_model => repeat('m', 201)`, 'model'],
      [`p_idempotency_key => 'k-4', p_model => 'gpt-4o', p_latency_ms => -1`, 'latency_ms'],
      [`p_idempotency_key => 'k-5', p_model => 'gpt-4o', p_cost_usd => 'NaN'`, 'cost_usd'],
      [`p_idempotency_key => 'k-6', p_model => 'gpt-4o', p_web_search_requests => 100001`, 'web_search_requests'],
      [`p_idempotency_key => 'k-7', p_model => 'gpt-4o', p_service_tier => null`, 'service_tier'],
      [`p_idempotency_key => 'k-8', p_model => 'gpt-4o', p_byok => null`, 'byok'],
    ] as const) {
      const message = await call(args).then(() => 'accepted', (e: unknown) => pgErrorOf(e).message);
      expect(message, args).toMatch(new RegExp(`^${field}: `));
    }
    const [c] = await t.rows<{ n: number }>(sql`select count(*)::int as n from ai_usage_events where user_id = ${user}`);
    expect(c!.n).toBe(0);
    const checks = await t.rows(sql`select conname from pg_constraint where conrelid = 'public.ai_usage_events'::regclass and contype = 'c'`);
    expect(checks).toEqual([]);
  });
});

describe('model names', () => {
  it("'GPT-4o ' is priced as gpt-4o and lands in gpt-4o's daily total; a provider's own prefix goes", async () => {
    const user = await newUser();
    const a = await recordUsage(t.db, { userId: user, idempotencyKey: key(), provider: 'openai', model: 'GPT-4o ', agentMode: 'debug', inputTokens: 1_000 });
    const [b] = await callFunction(t.db, 'record_usage', { p_user_id: user, p_idempotency_key: key(), p_provider: 'openai', p_model: 'OpenAI/gpt-4o', p_agent_mode: 'debug', p_input_tokens: 1_000 });
    expect([a.costUsd, b!.cost_usd]).toEqual(['0.0025000000', '0.0025000000']);
    const rows = await t.rows<{ model: string }>(sql`select distinct model from ai_usage_daily where user_id = ${user}`);
    expect(rows).toEqual([{ model: 'gpt-4o' }]);
  });

  it('a dated snapshot is billed at its family price where the catalog says so; an unknown snapshot stays unpriced', async () => {
    const user = await newUser();
    const known = await recordUsage(t.db, { userId: user, idempotencyKey: key(), provider: 'anthropic', model: 'claude-sonnet-4-5-20250929', agentMode: 'debug', inputTokens: 1_000 });
    expect(known.costUsd).toBe('0.0030000000');
    const unknown = await recordUsage(t.db, { userId: user, idempotencyKey: key(), provider: 'anthropic', model: 'claude-sonnet-4-5-20991231', agentMode: 'debug', inputTokens: 1_000 });
    expect(unknown.costSource).toBe('unpriced');
  });

  it('a name that is only spaces is refused', async () => {
    const user = await newUser();
    await expect(recordUsage(t.db, { userId: user, idempotencyKey: key(), provider: 'openai', model: '   ', agentMode: 'debug' })).rejects.toMatchObject({ field: 'model' });
  });
});

describe('bring your own key', () => {
  it('is recorded with its cost, counts its tokens, and counts against no cost budget', async () => {
    const user = await newUser();
    const usage = usageFromOpenAI(chatCompletion('gpt-4.1', { prompt_tokens: 1_000_000, completion_tokens: 0, total_tokens: 1_000_000 }));
    const own = await record(user, usage, { byok: true });
    const paid = await record(user, usage);
    expect([own.costUsd, paid.costUsd]).toEqual(['2.0000000000', '2.0000000000']);
    const [e] = await t.rows<{ byok: boolean }>(sql`select byok from ai_usage_events where id = ${own.eventId}`);
    expect(e!.byok).toBe(true);
    const status = await getQuotaStatus(t.db, { userId: user });
    expect(status).toMatchObject({ tokensUsed: 2_000_000, costUsedUsd: '2.0000000000' });
    const [monthly] = await getMonthlyUsage(t.db, { userId: user });
    expect(monthly).toMatchObject({ costUsd: '4.0000000000', byokCostUsd: '2.0000000000' });
  });
});

describe('corrections of the new figures', () => {
  it("a BYOK request's correction stays BYOK: its cost moves byok_cost_usd too, and the quota's cost stays clear of it", async () => {
    const user = await newUser();
    const usage = usageFromOpenAI(chatCompletion('gpt-4.1', { prompt_tokens: 1_000_000, completion_tokens: 0, total_tokens: 1_000_000 }));
    const own = await record(user, usage, { byok: true });
    const fix = await asService(t.db, (tx) =>
      recordAdjustment(tx, { eventId: own.eventId, idempotencyKey: key(), reason: 'provider invoice', costUsd: '0.5', webSearchRequests: 2 }),
    );
    expect(fix.costUsd).toBe('0.5000000000');
    const [daily] = await t.rows<Record<string, string>>(sql`select sum(cost_usd)::text as cost, sum(byok_cost_usd)::text as byok,
        sum(web_search_requests)::text as searches from ai_usage_daily where user_id = ${user}`);
    expect(daily).toEqual({ cost: '2.5000000000', byok: '2.5000000000', searches: '2' });
    expect(await getQuotaStatus(t.db, { userId: user })).toMatchObject({ tokensUsed: 1_000_000, costUsedUsd: '0.0000000000' });
    const [e] = await t.rows<{ byok: boolean; service_tier: string }>(sql`select byok, service_tier::text from ai_usage_events where id = ${fix.eventId}`);
    expect(e).toEqual({ byok: true, service_tier: 'standard' });
  });

  it('refuses a correction that leaves more 1-hour writes than cache writes, or negative extras, naming the field', async () => {
    const user = await newUser();
    const r = await record(user, usageFromAnthropic(anthropicMessage('claude-sonnet-4-5', {
      input_tokens: 10, output_tokens: 10, cache_creation_input_tokens: 100,
      cache_creation: { ephemeral_5m_input_tokens: 60, ephemeral_1h_input_tokens: 40 },
    })));
    const fix = (patch: Record<string, number>) =>
      asService(t.db, (tx) => recordAdjustment(tx, { eventId: r.eventId, idempotencyKey: key(), reason: 'test', ...patch }));
    await expect(fix({ cacheWrite1hTokens: 61 })).rejects.toMatchObject({ field: 'cache_write_1h_tokens' });
    await expect(fix({ cacheWriteTokens: -61 })).rejects.toMatchObject({ field: 'cache_write_1h_tokens' });
    await expect(fix({ webSearchRequests: -1 })).rejects.toMatchObject({ field: 'web_search_requests' });
    await expect(fix({ toolRequests: 100_001 })).rejects.toMatchObject({ field: 'tool_requests' });
    const ok = await fix({ cacheWriteTokens: 20, cacheWrite1hTokens: 20 });
    expect(ok.totalTokens).toBe(20);
    const [sum] = await t.rows<Record<string, string>>(sql`select sum(cache_write_tokens)::text as writes, sum(cache_write_1h_tokens)::text as writes_1h
      from ai_usage_events where user_id = ${user}`);
    expect(sum).toEqual({ writes: '120', writes_1h: '60' });
  });
});

describe('syncPrices', () => {
  it('loads the shipped catalog idempotently: a second run adds nothing', async () => {
    const before = await t.rows<{ n: number }>(sql`select count(*)::int as n from model_prices`);
    const again = await asService(t.db, (tx) => syncPrices(tx, priceCatalog));
    expect(again.inserted).toBe(0);
    expect(again.unchanged).toBeGreaterThan(100);
    expect(await t.rows(sql`select count(*)::int as n from model_prices`)).toEqual(before);
  });

  it('a changed price becomes new dated rows; the old rows and the events charged at them stay as they were', async () => {
    const user = await newUser();
    const first = await recordUsage(t.db, { userId: user, idempotencyKey: key(), provider: 'mistral', model: 'codestral-latest', agentMode: 'debug', inputTokens: 1_000_000 });
    expect(first.costUsd).toBe('0.3000000000');
    const snapshot = await t.rows(sql`select * from model_prices where model like 'codestral%' order by id`);
    const change = (date: string, input: string): PriceCatalog => ({
      version: `test-${date}`,
      prices: [{ provider: 'mistral', model: 'codestral-latest', aliases: ['codestral-2501'], effectiveFrom: date, inputPerMtok: input, cachedInputPerMtok: input, cacheWritePerMtok: input, outputPerMtok: '0.9', reasoningPerMtok: '0.9' }],
    });
    const yesterday = new Date(Date.now() - 86_400_000).toISOString();
    expect(await asService(t.db, (tx) => syncPrices(tx, change(yesterday, '0.2')))).toEqual({ inserted: 2, unchanged: 0, providersAdded: 0 });
    expect(await asService(t.db, (tx) => syncPrices(tx, change(yesterday, '0.2')))).toEqual({ inserted: 0, unchanged: 2, providersAdded: 0 });
    const after = await t.rows(sql`select * from model_prices where model like 'codestral%' order by id`);
    expect(after.slice(0, snapshot.length)).toEqual(snapshot);
    const second = await recordUsage(t.db, { userId: user, idempotencyKey: key(), provider: 'mistral', model: 'codestral-latest', agentMode: 'debug', inputTokens: 1_000_000 });
    expect(second.costUsd).toBe('0.2000000000');
    const [old] = await t.rows<{ cost_usd: string }>(sql`select cost_usd::text from ai_usage_events where id = ${first.eventId}`);
    expect(old!.cost_usd).toBe('0.3000000000');

    // Other prices for a date already recorded: refused, nothing written.
    const count = await t.rows(sql`select count(*)::int as n from model_prices`);
    await expect(asService(t.db, (tx) => syncPrices(tx, change(yesterday, '0.25')))).rejects.toMatchObject({ field: 'prices.0.effective_from' });
    expect(await t.rows(sql`select count(*)::int as n from model_prices`)).toEqual(count);
  });

  it('refuses a bad catalog naming the entry and the field, before writing anything', async () => {
    const bad = (patch: Record<string, unknown>): PriceCatalog =>
      ({ version: 'bad', prices: [{ provider: 'openai', model: 'x', effectiveFrom: '2025-01-01', inputPerMtok: '1', cachedInputPerMtok: '1', cacheWritePerMtok: '1', outputPerMtok: '1', reasoningPerMtok: '1', ...patch }] }) as PriceCatalog;
    for (const [patch, field] of [
      [{ inputPerMtok: 'NaN' }, 'prices.0.input_per_mtok'],
      [{ outputPerMtok: '1.0000001' }, 'prices.0.output_per_mtok'],
      [{ cachedInputPerMtok: '10001' }, 'prices.0.cached_input_per_mtok'],
      [{ effectiveFrom: 'soon' }, 'prices.0.effective_from'],
      [{ serviceTier: 'turbo' }, 'prices.0.service_tier'],
      [{ provider: 'Not A Provider' }, 'prices.0.provider'],
    ] as const) {
      const error = await syncPrices(t.db, bad(patch)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe(field);
    }
  });

  it.skipIf(target().kind === 'pglite')(`two syncs at once add each row once (${needsServer})`, async () => {
    const catalog: PriceCatalog = {
      version: 'race',
      prices: [{ provider: 'openai', model: 'race-model', effectiveFrom: '2025-02-01', inputPerMtok: '1', cachedInputPerMtok: '1', cacheWritePerMtok: '1', outputPerMtok: '1', reasoningPerMtok: '1' }],
    };
    const results = await Promise.all([0, 1, 2, 3].map(async () => {
      const c = t.connect(1);
      try {
        return await asService(c.db, (tx) => syncPrices(tx, catalog));
      } finally {
        await c.close();
      }
    }));
    expect(results.map((r) => r.inserted).sort()).toEqual([0, 0, 0, 1]);
  });
});

describe('the LiteLLM importer', () => {
  // Entries shaped as in LiteLLM's model_prices_and_context_window.json (USD per token).
  const file = {
    sample_spec: { input_cost_per_token: 0, output_cost_per_token: 0, litellm_provider: 'one of https://docs.litellm.ai/docs/providers', mode: 'chat' },
    'claude-sonnet-4-5-20250929': {
      litellm_provider: 'anthropic',
      mode: 'chat',
      input_cost_per_token: 3e-6,
      output_cost_per_token: 1.5e-5,
      cache_read_input_token_cost: 3e-7,
      cache_creation_input_token_cost: 3.75e-6,
      cache_creation_input_token_cost_above_1hr: 6e-6,
      input_cost_per_token_above_200k_tokens: 6e-6,
      output_cost_per_token_above_200k_tokens: 2.25e-5,
      cache_read_input_token_cost_above_200k_tokens: 6e-7,
      cache_creation_input_token_cost_above_200k_tokens: 7.5e-6,
      search_context_cost_per_query: { search_context_size_low: 0.01, search_context_size_medium: 0.01, search_context_size_high: 0.01 },
      max_input_tokens: 1_000_000,
    },
    'gpt-imported': {
      litellm_provider: 'openai',
      mode: 'chat',
      input_cost_per_token: 1.25e-6,
      output_cost_per_token: 1e-5,
      cache_read_input_token_cost: 1.25e-7,
      input_cost_per_token_batches: 6.25e-7,
      output_cost_per_token_batches: 5e-6,
      input_cost_per_token_priority: 2.5e-6,
      output_cost_per_token_priority: 2e-5,
      cache_read_input_token_cost_priority: 2.5e-7,
    },
    'gemini/gemini-imported': { litellm_provider: 'gemini', mode: 'chat', input_cost_per_token: 1e-7, output_cost_per_token: 4e-7 },
    'text-embedding-3-small': { litellm_provider: 'openai', mode: 'embedding', input_cost_per_token: 2e-8, output_cost_per_token: 0 },
    'some-host/model': { litellm_provider: 'some_host', mode: 'chat', input_cost_per_token: 1e-6, output_cost_per_token: 1e-6 },
  };

  it('reads per-token prices into exact per-million rates, with long-context, 1-hour, batch and priority rows', () => {
    const { catalog, skipped } = catalogFromLiteLLM(file, { effectiveFrom: '2025-03-01', version: 'litellm@test' });
    expect(skipped.map((s) => s.key).sort()).toEqual(['some-host/model', 'text-embedding-3-small']);
    const sonnet = catalog.prices.filter((p) => p.model === 'claude-sonnet-4-5-20250929');
    expect(sonnet).toEqual([
      expect.objectContaining({ provider: 'anthropic', serviceTier: 'standard', minContextTokens: 0, inputPerMtok: '3', cachedInputPerMtok: '0.3', cacheWritePerMtok: '3.75', cacheWrite1hPerMtok: '6', outputPerMtok: '15', reasoningPerMtok: '15', webSearchPerK: '10' }),
      expect.objectContaining({ minContextTokens: 200_001, inputPerMtok: '6', cachedInputPerMtok: '0.6', cacheWritePerMtok: '7.5', outputPerMtok: '22.5' }),
    ]);
    const gpt = catalog.prices.filter((p) => p.model === 'gpt-imported');
    expect(gpt.map((p) => [p.serviceTier, p.inputPerMtok, p.cachedInputPerMtok, p.outputPerMtok])).toEqual([
      ['standard', '1.25', '0.125', '10'],
      ['batch', '0.625', '0.125', '5'],
      ['priority', '2.5', '0.25', '20'],
    ]);
    expect(catalog.prices.find((p) => p.model === 'gemini-imported')).toMatchObject({ provider: 'google', inputPerMtok: '0.1', outputPerMtok: '0.4' });
  });

  it('a row above 128k takes its own input and output prices and the base cache prices', () => {
    const { catalog } = catalogFromLiteLLM(
      {
        'gemini/gemini-older': {
          litellm_provider: 'gemini', mode: 'chat', input_cost_per_token: 1.25e-6, output_cost_per_token: 5e-6,
          cache_read_input_token_cost: 3.125e-7, input_cost_per_token_above_128k_tokens: 2.5e-6, output_cost_per_token_above_128k_tokens: 1e-5,
          cache_read_input_token_cost_above_200k_tokens: 9e-6,
        },
      },
      { effectiveFrom: '2025-03-01', version: 'litellm@test' },
    );
    expect(catalog.prices.map((p) => [p.minContextTokens, p.inputPerMtok, p.cachedInputPerMtok, p.outputPerMtok])).toEqual([
      [0, '1.25', '0.3125', '5'],
      [128_001, '2.5', '0.3125', '10'],
    ]);
  });

  it('loads through syncPrices idempotently and prices requests', async () => {
    const { catalog } = catalogFromLiteLLM(file, { effectiveFrom: '2025-03-01', version: 'litellm@test', include: (_p, m) => m.endsWith('imported') });
    const first = await asService(t.db, (tx) => syncPrices(tx, catalog));
    expect(first.inserted).toBe(4);
    expect((await asService(t.db, (tx) => syncPrices(tx, catalog))).inserted).toBe(0);
    const user = await newUser();
    const r = await recordUsage(t.db, { userId: user, idempotencyKey: key(), provider: 'openai', model: 'gpt-imported', agentMode: 'debug', inputTokens: 1_000_000, serviceTier: 'priority' });
    expect(r.costUsd).toBe('2.5000000000');
  });
});

describe('migrating a deployed database forward', () => {
  it('keeps every event, total and price as they were, and prices old rows as before', async () => {
    const deployed = await databaseMigratedTo('0023_quota_notifications');
    try {
      const user = '6f1c2f4e-8d0a-4c1e-9a55-1b2c3d4e5f60';
      await deployed.query(`insert into auth.users (instance_id, id, aud, role, email, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
        values ('00000000-0000-0000-0000-000000000000', $1, 'authenticated', 'authenticated', 'old@example.com', '{}', '{}', now(), now())`, [user]);
      await deployed.query(`insert into public.model_prices (provider, model, effective_from, input_per_mtok, output_per_mtok,
          cached_input_per_mtok, cache_write_per_mtok, reasoning_per_mtok) values ('anthropic', 'claude-sonnet-4', '2025-01-01', 3, 15, 0.3, 3.75, 15)`);
      const record = (k: string, model: string) =>
        deployed.query<{ cost_usd: string; total_tokens: string }>(`select cost_usd::text, total_tokens::text from public.record_usage(
          p_user_id => $1, p_idempotency_key => $2, p_provider => 'anthropic', p_model => $3, p_agent_mode => 'debug',
          p_input_tokens => 1000, p_cached_input_tokens => 2000, p_cache_write_tokens => 3000, p_output_tokens => 400)`, [user, k, model]);
      const [before] = await record('old-1', 'claude-sonnet-4');
      await record('old-2', 'Claude-Sonnet-4');
      const snapshot = async () => ({
        events: await deployed.query(`select id, model, input_tokens, cached_input_tokens, cache_write_tokens, output_tokens, total_tokens,
            cost_usd::text, cost_source, price_id from ai_usage_events order by id`),
        daily: await deployed.query(`select model, bucket, request_count, total_tokens, cost_usd::text from ai_usage_daily order by model, bucket`),
        prices: await deployed.query(`select id, provider, model, effective_from, input_per_mtok::text, output_per_mtok::text from model_prices order by id`),
      });
      const old = await snapshot();

      const applied = await deployed.migrateForward();
      expect(applied.slice(0, 2)).toEqual(['0024_pricing_schema', '0025_pricing_schema']);
      expect(await snapshot()).toEqual(old);
      // What the new columns say of rows recorded before them: standard tier,
      // 5-minute writes, no extras, not BYOK; no BYOK cost in the totals.
      const [defaults] = await deployed.query(`select bool_and(service_tier = 'standard' and cache_write_1h_tokens = 0 and web_search_requests = 0
          and tool_requests = 0 and not byok) as events_ok,
          (select bool_and(byok_cost_usd = 0 and cache_write_1h_tokens = 0) from ai_usage_daily) as daily_ok,
          (select bool_and(service_tier = 'standard' and min_context_tokens = 0 and cache_write_1h_per_mtok is null) from model_prices) as prices_ok
        from ai_usage_events`);
      expect(defaults).toEqual({ events_ok: true, daily_ok: true, prices_ok: true });
      // The old price row prices a request as before; a retry of an old key is still a retry.
      const [after] = await record('new-1', 'claude-sonnet-4');
      expect(after).toEqual(before);
      const [retry] = await deployed.query<{ duplicate: boolean }>(`select duplicate from public.record_usage(p_user_id => $1,
          p_idempotency_key => 'old-1', p_provider => 'anthropic', p_model => 'claude-sonnet-4', p_agent_mode => 'debug')`, [user]);
      expect(retry!.duplicate).toBe(true);
    } finally {
      await deployed.close();
    }
  });
});
