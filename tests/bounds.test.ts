// Money and time are sane everywhere they are stored, whatever a careless
// backend sends: NaN and ±Infinity are refused for every numeric (a `>= 0`
// check lets NaN through: Postgres orders NaN above every number), every
// summed value has an upper bound per row so that no total can overflow, and
// occurred_at lies in a window. Calls go straight to SQL, past the
// TypeScript validation, as a caller that skips it would; TypeScript refuses
// the same values first (tests/limits.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromDatabaseError, pgErrorOf, ValidationError } from '../src/errors.js';
import { signUpLocal } from '../src/local/auth.js';
import { getQuotaStatus } from '../src/queries/quotas.js';
import { recordUsage } from '../src/queries/usage.js';
import { limits } from '../src/schema/limits.js';
import { freshDatabase, sql, type TestDatabase } from './support/database.js';
import { addPrice, startTestSession } from './support/fixtures.js';

let t: TestDatabase;
let user: string;
let n = 0;
const key = () => `b-${++n}`;

beforeAll(async () => {
  t = await freshDatabase();
  user = await signUpLocal(t.db, { email: 'bounds@example.com' });
});
afterAll(() => t?.close());

/** What the database says of a statement: null when accepted, else "field: rule" (or the raw message). */
async function says(statement: ReturnType<typeof sql>): Promise<string | null> {
  try {
    await t.rows(statement);
    return null;
  } catch (error) {
    const e = fromDatabaseError(error);
    return e instanceof ValidationError ? e.message : pgErrorOf(error).message;
  }
}

async function eventsAndTotals(): Promise<{ events: number; daily: string }> {
  const [row] = await t.rows<{ events: number; daily: string }>(sql`select
    (select count(*)::int from ai_usage_events where user_id = ${user}) as events,
    (select coalesce(sum(cost_usd), 0)::text from ai_usage_daily where user_id = ${user}) as daily`);
  return row!;
}

const record = (extra: ReturnType<typeof sql>) =>
  sql`select * from public.record_usage(${user}::uuid, ${key()}, 'openai', 'gpt-4.1', 'debug', 10, ${extra})`;

describe('money', () => {
  it.each(['NaN', 'Infinity', '-Infinity', '9999999999', '100000.0000000001', '-0.01'])('a given cost of %s is refused and writes nothing', async (cost) => {
    const before = await eventsAndTotals();
    expect(await says(record(sql`p_cost_usd => ${cost}::numeric`))).toBe(`cost_usd: must be a number of USD between 0 and ${limits.costPerRequestUsd}`);
    expect(await eventsAndTotals()).toEqual(before);
  });

  it('requests at the largest cost add up without overflowing a day, a session or the quota status', async () => {
    const session = await startTestSession(t, user);
    for (let i = 0; i < 3; i++) {
      expect(await says(record(sql`p_cost_usd => ${limits.costPerRequestUsd}::numeric, p_session_id => ${session}::uuid`))).toBeNull();
    }
    // Before the bounds, one 9,999,999,999 cost filled numeric(20,10) and the next request of the day failed.
    expect(await says(record(sql`p_cost_usd => 0.5`))).toBeNull();
    const [s] = await t.rows<{ cost: string }>(sql`select cost_usd::text as cost from agent_sessions where id = ${session}`);
    expect(s!.cost).toBe('300000.0000000000');
    const status = (await getQuotaStatus(t.db, { userId: user }))!;
    expect(status.costUsedUsd).toBe('300000.5000000000');
    expect(status.hardLimitReached).toBe(true);
  });

  it('a cost computed from the price table is bounded too', async () => {
    await addPrice(t, { provider: 'anthropic', model: 'pricey', inputPerMtok: limits.pricePerMtokUsd, outputPerMtok: limits.pricePerMtokUsd });
    const over = sql`select * from public.record_usage(${user}::uuid, ${key()}, 'anthropic', 'pricey', 'debug', ${limits.tokensPerRequest}::bigint)`;
    expect(await says(over)).toMatch(/^cost_usd: the cost computed from the price table exceeds 100000 USD/);
  });

  it.each([
    ['a NaN price', 'NaN'],
    ['an infinite price', 'Infinity'],
    ['a price above the bound', String(limits.pricePerMtokUsd + 1)],
    ['a negative price', '-1'],
  ])('%s is refused', async (_name, value) => {
    const e = await says(sql`insert into model_prices (provider, model, effective_from, input_per_mtok, output_per_mtok,
      cached_input_per_mtok, cache_write_per_mtok, reasoning_per_mtok) values ('openai', ${key()}, now(), ${value}::numeric, 1, 1, 1, 1)`);
    // Infinity does not even fit numeric(14,6): refused by the type (22003) before the CHECK.
    expect(e).toMatch(/model_prices_range|numeric field overflow/);
  });

  it.each([
    ['a NaN cost limit', sql`monthly_cost_limit_usd_override = 'NaN'`],
    ['an infinite cost limit', sql`monthly_cost_limit_usd_override = 'Infinity'`],
    ['a bigint-max token limit', sql`monthly_token_limit_override = 9223372036854775807`],
    ['a token limit above the bound', sql`monthly_token_limit_override = ${limits.monthlyTokenLimit + 1}`],
    ['a request limit above the bound', sql`daily_request_limit_override = ${limits.dailyRequestLimit + 1}`],
  ])('%s is refused', async (_name, change) => {
    const e = await says(sql`update user_quotas set ${change} where user_id = ${user}`);
    expect(e).toMatch(/user_quotas_limits_range|numeric field overflow/);
  });

  it('a tier with a NaN or bigint-max limit is refused', async () => {
    expect(await says(sql`update quota_tiers set monthly_cost_limit_usd = 'NaN' where id = 'free'`)).toMatch(/quota_tiers_limits_range/);
    expect(await says(sql`update quota_tiers set monthly_token_limit = 9223372036854775807 where id = 'free'`)).toMatch(/quota_tiers_limits_range/);
  });

  it('the quota status stays exact at the largest limits and totals', async () => {
    const big = await signUpLocal(t.db, { email: 'big@example.com' });
    await t.rows(sql`update user_quotas set monthly_token_limit_override = ${limits.monthlyTokenLimit},
      monthly_cost_limit_usd_override = ${limits.monthlyCostLimitUsd}, daily_request_limit_override = ${limits.dailyRequestLimit}
      where user_id = ${big}`);
    // Daily rows as full as they may get, for many models (written as the owner: a month of maximal traffic).
    await t.rows(sql`insert into ai_usage_daily (user_id, date, provider, model, agent_mode, bucket, request_count, total_tokens, cost_usd)
      select ${big}::uuid, date_trunc('day', now(), 'UTC'), 'openai', 'm-' || i, 'debug', 0,
             ${limits.requestsPerTotalRow}, ${limits.requestsPerTotalRow}::bigint * 5 * ${limits.tokensPerRequest}, 1e15
      from generate_series(1, 400) i`);
    const status = (await getQuotaStatus(t.db, { userId: big }))!;
    // 400 rows of 2.5e16 tokens pass what a JavaScript number holds exactly: the figure is held there
    // ("at least this many"), far past any limit, and the flags stay right.
    expect(status.tokensUsed).toBe(Number.MAX_SAFE_INTEGER);
    expect(status.tokensRemaining).toBe(0);
    expect(status.hardLimitReached).toBe(true);
    expect(status.costUsedUsd).toBe('400000000000000000');
  });
});

describe('counts and latency', () => {
  it.each([
    ['a latency over a day', sql`p_latency_ms => ${limits.latencyMs + 1}`, `latency_ms: must be between 0 and ${limits.latencyMs} ms`],
    ['a negative latency', sql`p_latency_ms => -1`, `latency_ms: must be between 0 and ${limits.latencyMs} ms`],
  ])('%s is refused', async (_name, extra, message) => {
    expect(await says(record(extra))).toBe(message);
  });

  it('a daily total or a session that holds as many requests as it may refuses the next one, naming it', async () => {
    const u = await signUpLocal(t.db, { email: 'full@example.com' });
    // Every bucket of today's row for this model, full (as the owner: what a year of traffic would leave).
    await t.rows(sql`insert into ai_usage_daily (user_id, date, provider, model, agent_mode, bucket, request_count)
      select ${u}::uuid, date_trunc('day', now(), 'UTC'), 'openai', 'gpt-4.1', 'debug', b, ${limits.requestsPerTotalRow}
      from generate_series(0, 7) b`);
    const e = await says(sql`select * from public.record_usage(${u}::uuid, 'over', 'openai', 'gpt-4.1', 'debug', 10)`);
    expect(e).toMatch(/^occurred_at: more than 50000000 requests in one total/);
    const [c] = await t.rows<{ n: number }>(sql`select count(*)::int as n from ai_usage_events where user_id = ${u}`);
    expect(c!.n).toBe(0);
    // Another model's total is not full.
    expect(await says(sql`select * from public.record_usage(${u}::uuid, 'other', 'openai', 'gpt-4.1-mini', 'debug', 10)`)).toBeNull();
  });
});

describe('time', () => {
  const at = (when: string) => record(sql`p_occurred_at => ${when}::timestamptz`);

  it.each([
    ['-infinity', /^occurred_at: must not be more than 7 days in the past/],
    ['infinity', /^occurred_at: must not be more than 300 seconds in the future/],
  ])('occurred_at %s is refused', async (when, message) => {
    expect(await says(at(when))).toMatch(message);
  });

  it('more than the clock skew in the future is refused; within it, accepted', async () => {
    expect(await says(record(sql`p_occurred_at => now() + interval '1 hour'`))).toMatch(/^occurred_at: must not be more than 300 seconds in the future/);
    expect(await says(record(sql`p_occurred_at => now() + interval '1 minute'`))).toBeNull();
  });

  it('the backdating limit is 7 days unless the database says otherwise, and never beyond the idempotency window', async () => {
    expect(await says(record(sql`p_occurred_at => now() - interval '6 days'`))).toBeNull();
    expect(await says(record(sql`p_occurred_at => now() - interval '8 days'`))).toBe(
      'occurred_at: must not be more than 7 days in the past (witchcraft.usage_backdating_days)',
    );
    const within = async (setting: string, statement: ReturnType<typeof sql>) => {
      let said: string | null = null;
      await t.db
        .transaction(async (tx) => {
          await tx.execute(sql`select set_config('witchcraft.usage_backdating_days', ${setting}, true)`);
          said = await tx.execute(statement).then(() => null, (e) => (fromDatabaseError(e) as Error).message);
          throw new Error('rollback');
        })
        .catch((e: Error) => {
          if (e.message !== 'rollback') throw e;
        });
      return said;
    };
    expect(await within('20', record(sql`p_occurred_at => now() - interval '15 days'`))).toBeNull();
    expect(await within('3', record(sql`p_occurred_at => now() - interval '4 days'`))).toBe(
      'occurred_at: must not be more than 3 days in the past (witchcraft.usage_backdating_days)',
    );
    expect(await within('90', record(sql`p_occurred_at => now() - interval '1 day'`))).toMatch(
      /^witchcraft\.usage_backdating_days: must be a whole number of days from 0 to 30/,
    );
    expect(await within('a week', record(sql`p_occurred_at => now() - interval '1 day'`))).toMatch(/^witchcraft\.usage_backdating_days: /);
  });

  it('TypeScript refuses an invalid date or one far in the past before the database sees it', async () => {
    const input = { userId: user, idempotencyKey: key(), provider: 'openai', model: 'gpt-4.1', agentMode: 'debug' as const };
    await expect(recordUsage(t.db, { ...input, occurredAt: new Date('nonsense') })).rejects.toThrow(/^occurred_at: /);
    await expect(recordUsage(t.db, { ...input, occurredAt: new Date(Date.now() - 40 * 86_400_000) })).rejects.toThrow(/^occurred_at: /);
  });
});
