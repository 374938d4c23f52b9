import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asService, withClaims } from '../src/auth/withClaims.js';
import { ValidationError, pgErrorOf } from '../src/errors.js';
import { signUpLocal } from '../src/local/auth.js';
import { getMonthlyUsage, purgeUsageEvents, recordUsage } from '../src/queries/usage.js';
import { monthlyUsageQuery } from '../src/queries/seedExamples.js';
import { freshDatabase, needsServer, sql, target, type TestDatabase } from './support/database.js';
import { addPrice, ageUsage, startTestSession } from './support/fixtures.js';

let t: TestDatabase;
let alice: string;
let bob: string;
let n = 0;
const key = () => `req-${++n}`;
const base = { provider: 'anthropic', model: 'claude-sonnet-4', agentMode: 'implement' as const };

async function counts(user: string) {
  const [e] = await t.rows<{ n: number; tokens: string }>(
    sql`select count(*)::int as n, coalesce(sum(total_tokens), 0)::text as tokens from ai_usage_events where user_id = ${user}`,
  );
  const [d] = await t.rows<{ n: number; tokens: string }>(
    sql`select coalesce(sum(request_count), 0)::int as n, coalesce(sum(total_tokens), 0)::text as tokens from ai_usage_daily where user_id = ${user}`,
  );
  return { events: e!.n, eventTokens: e!.tokens, dailyRequests: d!.n, dailyTokens: d!.tokens };
}

beforeAll(async () => {
  t = await freshDatabase();
  alice = await signUpLocal(t.db, { email: 'alice@example.com' });
  bob = await signUpLocal(t.db, { email: 'bob@example.com' });
  const sonnet = { provider: 'anthropic', model: 'claude-sonnet-4' };
  await addPrice(t, { ...sonnet, effectiveFrom: '2025-01-01', inputPerMtok: 3, outputPerMtok: 15, cachedInputPerMtok: 0.3, cacheWritePerMtok: 3.75, reasoningPerMtok: 15 });
  await addPrice(t, { ...sonnet, effectiveFrom: '2026-06-01', inputPerMtok: 2, outputPerMtok: 10, cachedInputPerMtok: 0.2, cacheWritePerMtok: 2.5, reasoningPerMtok: 10 });
});
afterAll(() => t?.close());

describe('recording usage', () => {
  it('records an event with its daily total, priced from the table', async () => {
    const r = await asService(t.db, (tx) =>
      recordUsage(tx, { ...base, userId: alice, idempotencyKey: key(), inputTokens: 1000, outputTokens: 200, latencyMs: 900 }),
    );
    expect(r.duplicate).toBe(false);
    expect(r.costSource).toBe('price_table');
    // 1000 * 2 / 1e6 + 200 * 10 / 1e6 = 0.004 at the price in force now
    expect(r.costUsd).toBe('0.0040000000');
    expect(r.totalTokens).toBe(1200);
    expect(await counts(alice)).toEqual({ events: 1, eventTokens: '1200', dailyRequests: 1, dailyTokens: '1200' });
  });

  it('a retry with the same key returns the first event and counts nothing twice', async () => {
    const k = key();
    const first = await recordUsage(t.db, { ...base, userId: alice, idempotencyKey: k, inputTokens: 10 });
    const before = await counts(alice);
    const again = await recordUsage(t.db, { ...base, userId: alice, idempotencyKey: k, inputTokens: 10 });
    expect(again).toEqual({ ...first, duplicate: true });
    expect(await counts(alice)).toEqual(before);
  });

  it('the same key for another user is another request', async () => {
    const k = key();
    await recordUsage(t.db, { ...base, userId: alice, idempotencyKey: k, inputTokens: 1 });
    const other = await recordUsage(t.db, { ...base, userId: bob, idempotencyKey: k, inputTokens: 1 });
    expect(other.duplicate).toBe(false);
  });

  it('picks the price in force when the request happened; a new price never rewrites history', async () => {
    const fiveDaysAgo = new Date(Date.now() - 5 * 86_400_000);
    const old = await recordUsage(t.db, { ...base, userId: alice, idempotencyKey: key(), inputTokens: 1_000_000, occurredAt: fiveDaysAgo });
    expect(old.costUsd).toBe('2.0000000000');
    const [e] = await t.rows<{ effective_from: Date }>(sql`select p.effective_from from ai_usage_events e
      join model_prices p on p.id = e.price_id where e.id = ${old.eventId}`);
    expect(new Date(e!.effective_from).toISOString()).toBe('2026-06-01T00:00:00.000Z');
    // A newer price takes effect two days ago: the old event keeps its cost
    // and price, and a request from before it is still priced at the old rate.
    await addPrice(t, {
      provider: 'anthropic', model: 'claude-sonnet-4', effectiveFrom: new Date(Date.now() - 2 * 86_400_000),
      inputPerMtok: 1, outputPerMtok: 5, cachedInputPerMtok: 0.1, cacheWritePerMtok: 1.25, reasoningPerMtok: 5,
    });
    const [after] = await t.rows<{ cost_usd: string }>(sql`select cost_usd::text from ai_usage_events where id = ${old.eventId}`);
    expect(after!.cost_usd).toBe('2.0000000000');
    const late = await recordUsage(t.db, { ...base, userId: alice, idempotencyKey: key(), inputTokens: 1_000_000, occurredAt: fiveDaysAgo });
    expect(late.costUsd).toBe('2.0000000000');
    const now = await recordUsage(t.db, { ...base, userId: alice, idempotencyKey: key(), inputTokens: 1_000_000 });
    expect(now.costUsd).toBe('1.0000000000');
  });

  it('local models cost nothing, but their tokens count', async () => {
    const r = await recordUsage(t.db, {
      userId: bob, idempotencyKey: key(), provider: 'ollama', model: 'qwen2.5-coder:32b', agentMode: 'debug', inputTokens: 5000, outputTokens: 700,
    });
    expect(r).toMatchObject({ costUsd: '0.0000000000', costSource: 'free_local', totalTokens: 5700 });
  });

  it('a paid model with no price is recorded, marked unpriced, never dropped', async () => {
    const before = await counts(bob);
    const r = await recordUsage(t.db, { userId: bob, idempotencyKey: key(), provider: 'openai', model: 'gpt-unknown', agentMode: 'understand', inputTokens: 42 });
    expect(r).toMatchObject({ costUsd: null, costSource: 'unpriced', totalTokens: 42 });
    const [d] = await t.rows<{ unpriced: number }>(sql`select sum(unpriced_count)::int as unpriced from ai_usage_daily where user_id = ${bob} and model = 'gpt-unknown'`);
    expect(d!.unpriced).toBe(1);
    expect((await counts(bob)).events).toBe(before.events + 1);
  });

  it('a given cost is kept as given', async () => {
    const r = await recordUsage(t.db, { ...base, userId: bob, idempotencyKey: key(), inputTokens: 10, costUsd: '0.1234567891' });
    expect(r).toMatchObject({ costUsd: '0.1234567891', costSource: 'given' });
  });

  it('failures and cancellations are counted apart', async () => {
    await recordUsage(t.db, { ...base, userId: bob, idempotencyKey: key(), status: 'error', errorCode: 'rate_limited' });
    await recordUsage(t.db, { ...base, userId: bob, idempotencyKey: key(), status: 'cancelled', outputTokens: 5 });
    const [d] = await t.rows<{ e: number; c: number }>(
      sql`select sum(error_count)::int as e, sum(cancelled_count)::int as c from ai_usage_daily where user_id = ${bob}`,
    );
    expect(d).toEqual({ e: 1, c: 1 });
  });

  it('updates the figures of the session it belongs to', async () => {
    const session = await startTestSession(t, alice);
    await recordUsage(t.db, { ...base, userId: alice, idempotencyKey: key(), sessionId: session, inputTokens: 100, cachedInputTokens: 50, outputTokens: 20, reasoningTokens: 5 });
    const [f] = await t.rows<Record<string, string>>(sql`select request_count::text, input_tokens::text, output_tokens::text, total_tokens::text, cost_usd::text from agent_sessions where id = ${session}`);
    expect(f).toMatchObject({ request_count: '1', input_tokens: '150', output_tokens: '25', total_tokens: '175' });
    expect(Number(f!.cost_usd)).toBeGreaterThan(0);
  });

  it('the seed monthly-usage query and getMonthlyUsage agree with the raw events', async () => {
    const seed = await t.query<{ provider: string; model: string; total_tokens: string; total_cost: string }>(monthlyUsageQuery, [alice]);
    const raw = await t.rows<{ provider: string; model: string; tokens: string; cost: string }>(sql`
      select provider, model, sum(total_tokens)::text as tokens, coalesce(sum(cost_usd), 0)::text as cost from ai_usage_events
      where user_id = ${alice} and occurred_at >= date_trunc('month', now(), 'UTC') group by 1, 2 order by 1, 2`);
    const bySeed = Object.fromEntries(seed.map((r) => [`${r.provider}/${r.model}`, [String(r.total_tokens), Number(r.total_cost)]]));
    expect(Object.keys(bySeed).length).toBe(raw.length);
    for (const r of raw) expect(bySeed[`${r.provider}/${r.model}`]).toEqual([r.tokens, Number(r.cost)]);
    const monthly = await getMonthlyUsage(t.db, { userId: alice });
    expect(monthly.reduce((s, r) => s + r.totalTokens, 0)).toBe(raw.reduce((s, r) => s + Number(r.tokens), 0));
  });
});

describe('daily totals are derived rows', () => {
  it('only record_usage writes them, and every row it builds keeps the rules', async () => {
    const u = await signUpLocal(t.db, { email: 'daily-rules@example.com' });
    const kinds = { inputTokens: 120, outputTokens: 30, cachedInputTokens: 400, cacheWriteTokens: 50, reasoningTokens: 7 };
    for (const status of ['success', 'error', 'cancelled', 'success'] as const) {
      await recordUsage(t.db, { ...base, userId: u, idempotencyKey: key(), status, latencyMs: 500, ...kinds });
    }
    await recordUsage(t.db, { ...base, provider: 'ollama', model: 'llama3', userId: u, idempotencyKey: key(), ...kinds });
    await recordUsage(t.db, { ...base, userId: u, idempotencyKey: key(), occurredAt: new Date(Date.now() - 3 * 86_400_000), ...kinds });
    const broken = await t.rows(sql`select * from ai_usage_daily where user_id = ${u} and not (
        date = date_trunc('day', date, 'UTC') and bucket between 0 and 7
        and least(request_count, success_count, error_count, cancelled_count, unpriced_count, latency_count) >= 0
        and least(input_tokens, output_tokens, cached_input_tokens, cache_write_tokens, reasoning_tokens, latency_ms_sum) >= 0
        and cost_usd >= 0
        and total_tokens = input_tokens + output_tokens + cached_input_tokens + cache_write_tokens + reasoning_tokens
        and request_count = success_count + error_count + cancelled_count)`);
    expect(broken).toEqual([]);
    const [sums] = await t.rows<Record<string, string>>(sql`select
        (select sum(total_tokens) from ai_usage_daily where user_id = ${u})::text as daily,
        (select sum(total_tokens) from ai_usage_events where user_id = ${u})::text as events,
        (select sum(request_count) from ai_usage_daily where user_id = ${u})::text as requests`);
    expect(sums).toEqual({ daily: String(6 * 607), events: String(6 * 607), requests: '6' });
    // Not even the backend's key writes them directly.
    for (const statement of [
      sql`insert into ai_usage_daily (user_id, date, provider, model, agent_mode) values (${u}, date_trunc('day', now(), 'UTC'), 'openai', 'x', 'debug')`,
      sql`update ai_usage_daily set total_tokens = total_tokens + 1 where user_id = ${u}`,
      sql`delete from ai_usage_daily where user_id = ${u}`,
    ]) {
      const e = await asService(t.db, (tx) => tx.execute(statement)).then(() => null, (error: unknown) => pgErrorOf(error));
      expect(e?.code).toBe('42501');
    }
  });
});

describe('bad input is refused with the field named, and nothing is written', () => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['negative tokens', { inputTokens: -5 }, 'input_tokens'],
    ['absurd tokens', { outputTokens: 1e12 }, 'output_tokens'],
    ['an unknown agent mode', { agentMode: 'vibe' }, 'agent_mode'],
    ['an empty idempotency key', { idempotencyKey: '' }, 'idempotency_key'],
    ['an oversized idempotency key', { idempotencyKey: 'k'.repeat(201) }, 'idempotency_key'],
    ['a float cost', { costUsd: 0.1 }, 'cost_usd'],
  ];
  for (const [what, patch, field] of cases) {
    it(`in TypeScript: ${what}`, async () => {
      const before = await counts(alice);
      const error = await recordUsage(t.db, { ...base, userId: alice, idempotencyKey: key(), ...patch } as never).catch((e) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect(error.field).toBe(field);
      expect(await counts(alice)).toEqual(before);
    });
  }

  it('in the database too, for callers that skip TypeScript', async () => {
    const before = await counts(alice);
    const e = pgErrorOf(await t.rows(sql`select * from record_usage(${alice}::uuid, 'k-db', 'anthropic', 'm', 'debug', -1)`).catch((x) => x));
    expect(e.code).toBe('22023');
    expect(e.message).toBe('input_tokens: must be between 0 and 100000000');
    expect(await counts(alice)).toEqual(before);
  });

  it('a user that does not exist', async () => {
    const error = await recordUsage(t.db, { ...base, userId: '00000000-0000-4000-8000-000000000000', idempotencyKey: key() }).catch((e) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.field).toBe('user_id');
  });

  it('an unknown provider', async () => {
    const error = await recordUsage(t.db, { ...base, provider: 'nobody', userId: alice, idempotencyKey: key() }).catch((e) => e);
    expect(error.field).toBe('provider');
  });

  it("another user's session: refused, and neither the event nor its total is written", async () => {
    const bobSession = await startTestSession(t, bob);
    const before = await counts(alice);
    const error = await recordUsage(t.db, { ...base, userId: alice, idempotencyKey: key(), sessionId: bobSession, inputTokens: 9 }).catch((e) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.field).toBe('session_id');
    expect(await counts(alice)).toEqual(before);
    const [f] = await t.rows<{ request_count: number }>(sql`select request_count from agent_sessions where id = ${bobSession}`);
    expect(f!.request_count).toBe(0);
  });
});

describe('who may record', () => {
  it('anon and signed-in users cannot call record_usage', async () => {
    for (const claims of [{ role: 'anon' as const }, { role: 'authenticated' as const, sub: alice }]) {
      const e = pgErrorOf(
        await withClaims(t.db, claims, (tx) => recordUsage(tx, { ...base, userId: alice, idempotencyKey: key() })).catch((x) => x),
      );
      expect(e.code).toBe('42501');
    }
  });

  it("a signed-in user reads their own monthly usage, and nothing of another user's", async () => {
    const own = await withClaims(t.db, { role: 'authenticated', sub: bob }, (tx) => getMonthlyUsage(tx, { userId: bob }));
    expect(own.length).toBeGreaterThan(0);
    const other = await withClaims(t.db, { role: 'authenticated', sub: bob }, (tx) => getMonthlyUsage(tx, { userId: alice }));
    expect(other).toEqual([]);
  });
});

describe('retention', () => {
  it('deletes old raw events in batches while the daily totals stay exact', async () => {
    const user = await signUpLocal(t.db, { email: 'old@example.com' });
    for (let i = 0; i < 7; i++) {
      await recordUsage(t.db, { ...base, userId: user, idempotencyKey: `old-${i}`, inputTokens: 100 });
    }
    await ageUsage(t, user, 400);
    await recordUsage(t.db, { ...base, userId: user, idempotencyKey: 'new', inputTokens: 100 });
    const before = await counts(user);
    const deleted = await asService(t.db, (tx) => purgeUsageEvents(tx, { olderThanDays: 365, batchSize: 3 }));
    expect(deleted).toBe(7);
    const after = await counts(user);
    expect(after.events).toBe(1);
    expect(after.dailyTokens).toBe(before.dailyTokens);
    expect(after.dailyRequests).toBe(8);
  });
});

describe('exact under concurrent writers', () => {
  it.skipIf(target().kind === 'pglite')(
    `random concurrent recording from 8 connections: daily totals equal raw sums (${needsServer})`,
    async () => {
      const pool = t.connect(8);
      const users = [
        await signUpLocal(t.db, { email: 'c1@example.com' }),
        await signUpLocal(t.db, { email: 'c2@example.com' }),
        await signUpLocal(t.db, { email: 'c3@example.com' }),
      ];
      const models = [['anthropic', 'claude-sonnet-4'], ['ollama', 'llama3'], ['openai', 'gpt-x']] as const;
      const jobs = Array.from({ length: 400 }, (_, i) => {
        const [provider, model] = models[i % 3]!;
        return recordUsage(pool.db, {
          userId: users[(i % 350) % users.length]!, provider, model, agentMode: (['understand', 'debug', 'implement'] as const)[i % 3]!,
          // Some keys repeat: retries racing each other must still count once.
          idempotencyKey: `conc-${i % 350}`, inputTokens: 1 + ((i * 37) % 1000), outputTokens: (i * 13) % 300,
          status: i % 10 === 0 ? 'error' : 'success',
        });
      });
      const results = await Promise.all(jobs);
      const [agg] = await t.rows<{ events: number; ev_tokens: string; ev_cost: string; d_requests: number; d_tokens: string; d_cost: string }>(sql`
        select (select count(*)::int from ai_usage_events where user_id = any(${`{${users.join(",")}}`}::uuid[])) as events,
               (select sum(total_tokens)::text from ai_usage_events where user_id = any(${`{${users.join(",")}}`}::uuid[])) as ev_tokens,
               (select coalesce(sum(cost_usd), 0)::text from ai_usage_events where user_id = any(${`{${users.join(",")}}`}::uuid[])) as ev_cost,
               (select sum(request_count)::int from ai_usage_daily where user_id = any(${`{${users.join(",")}}`}::uuid[])) as d_requests,
               (select sum(total_tokens)::text from ai_usage_daily where user_id = any(${`{${users.join(",")}}`}::uuid[])) as d_tokens,
               (select sum(cost_usd)::text from ai_usage_daily where user_id = any(${`{${users.join(",")}}`}::uuid[])) as d_cost`);
      const all = { n: agg!.events };
      expect(results.filter((r) => !r.duplicate).length).toBe(350);
      expect(agg!.events).toBe(350);
      expect(agg!.d_requests).toBe(all!.n);
      expect(agg!.d_tokens).toBe(agg!.ev_tokens);
      expect(Number(agg!.d_cost)).toBe(Number(agg!.ev_cost));
      console.log(`[figures] concurrent recording: 400 calls (350 distinct keys) -> ${agg!.events} events; daily requests ${agg!.d_requests} = events ${all!.n}; tokens ${agg!.d_tokens} = ${agg!.ev_tokens}`);
    },
  );
});
