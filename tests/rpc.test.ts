// callFunction (src/rpc.ts) against the migrated database: named arguments
// cast to their declared types, defaults left to SQL, results decoded by
// their declared types, on the database, in a transaction and as a signed-in
// user. The typed queries' own tests cover each function's behaviour.
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { withClaims } from '../src/auth/withClaims.js';
import { signUpLocal } from '../src/local/auth.js';
import { callFunction, functionCallSql } from '../src/rpc.js';
import { pgErrorOf } from '../src/errors.js';
import { freshDatabase, sql, type TestDatabase } from './support/database.js';

let t: TestDatabase;
let user: string;
// A user of their own for the dated event, so its month holds nothing else.
let dated: string;
// Two days ago (within the backdating limit), to the millisecond.
const occurredAt = new Date(Math.floor((Date.now() - 2 * 86_400_000) / 1000) * 1000 + 123);
const occurredMonth = `${occurredAt.toISOString().slice(0, 7)}-01`;
let n = 0;
const key = () => `rpc-${++n}`;
const usage = { p_provider: 'anthropic', p_model: 'claude-sonnet-4', p_agent_mode: 'debug' } as const;

beforeAll(async () => {
  t = await freshDatabase();
  user = await signUpLocal(t.db, { email: 'rpc@example.com' });
  dated = await signUpLocal(t.db, { email: 'rpc-dated@example.com' });
  await t.rows(sql`insert into model_prices
      (provider, model, effective_from, input_per_mtok, output_per_mtok, cached_input_per_mtok, cache_write_per_mtok, reasoning_per_mtok)
    values ('anthropic', 'claude-sonnet-4', '2025-01-01', 3, 15, 0.3, 3.75, 15)`);
});
afterAll(() => t?.close());

describe('callFunction', () => {
  it('passes named arguments, leaves the omitted ones to their SQL defaults, and decodes each column by its type', async () => {
    const [hold] = await callFunction(t.db, 'reserve_quota', { p_user_id: user, p_idempotency_key: key(), p_estimated_tokens: 1_000 });
    expectTypeOf(hold!.granted).toEqualTypeOf<boolean>();
    expectTypeOf(hold!.expires_at).toEqualTypeOf<Date | null>();
    expect(hold).toEqual({
      granted: true,
      reason: 'granted',
      reservation_id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      expires_at: expect.any(Date),
      tokens_remaining: expect.any(Number),
      cost_remaining_usd: expect.stringMatching(/^\d+(\.\d+)?$/),
      requests_remaining: expect.any(Number),
      retry_after_ms: null,
    });
    // p_ttl and p_estimated_cost_usd were left out: 5 minutes and 0, the function's defaults.
    const [row] = await t.rows<{ ttl_s: number; cost: string }>(
      sql`select extract(epoch from expires_at - created_at)::int as ttl_s, estimated_cost_usd::text as cost
          from quota_reservations where id = ${hold!.reservation_id}`,
    );
    expect(row).toEqual({ ttl_s: 300, cost: '0.0000000000' });
    expect(Math.abs(hold!.expires_at!.getTime() - (Date.now() + 300_000))).toBeLessThan(60_000);
  });

  it('keeps numeric exact as a decimal string, and passes a Date as a point in time', async () => {
    const [event] = await callFunction(t.db, 'record_usage', {
      ...usage,
      p_user_id: dated,
      p_idempotency_key: key(),
      p_input_tokens: 10,
      p_cost_usd: '12345.0123456789',
      p_occurred_at: occurredAt,
    });
    expectTypeOf(event!.cost_usd).toEqualTypeOf<string | null>();
    expectTypeOf(event!.cost_source).toEqualTypeOf<'given' | 'price_table' | 'free_local' | 'unpriced'>();
    expect(event).toEqual({ event_id: expect.any(Number), duplicate: false, cost_usd: '12345.0123456789', cost_source: 'given', total_tokens: 10 });
    const [stored] = await t.rows<{ occurred_at: string }>(
      sql`select to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as occurred_at from ai_usage_events where id = ${event!.event_id}`,
    );
    expect(stored!.occurred_at).toBe(occurredAt.toISOString());
  });

  it('a column that may be null is null: no price, no cost; a refusal holds nothing', async () => {
    const [event] = await callFunction(t.db, 'record_usage', { ...usage, p_model: 'unpriced-model', p_user_id: user, p_idempotency_key: key() });
    expect(event).toMatchObject({ cost_usd: null, cost_source: 'unpriced' });
    const [refused] = await callFunction(t.db, 'reserve_quota', {
      p_user_id: user,
      p_idempotency_key: key(),
      p_estimated_tokens: 100_000_000,
    });
    expect(refused).toMatchObject({ granted: false, reason: 'monthly_token_limit', reservation_id: null, expires_at: null });
  });

  it('enum arguments are cast to the schema enum, enum results are their values', async () => {
    const rows = await callFunction(t.db, 'get_monthly_usage', { p_user_id: dated, p_month: occurredMonth });
    expectTypeOf(rows[0]!.agent_mode).toEqualTypeOf<'understand' | 'debug' | 'implement'>();
    expect(rows).toEqual([
      expect.objectContaining({ provider: 'anthropic', model: 'claude-sonnet-4', agent_mode: 'debug', request_count: 1, cost_usd: '12345.0123456789' }),
    ]);
    const refused = await callFunction(t.db, 'record_usage', {
      ...usage,
      // @ts-expect-error: not an agent mode
      p_agent_mode: 'refactor',
      p_user_id: user,
      p_idempotency_key: key(),
    }).catch((e: unknown) => e);
    expect(pgErrorOf(refused).code).toBe('22P02');
  });

  it('scalar functions return their value', async () => {
    const [hold] = await callFunction(t.db, 'reserve_quota', { p_user_id: user, p_idempotency_key: key(), p_estimated_tokens: 1, p_ttl: '10 minutes' });
    const released = await callFunction(t.db, 'release_quota', { p_user_id: user, p_reservation_id: hold!.reservation_id! });
    expectTypeOf(released).toEqualTypeOf<boolean>();
    expect(released).toBe(true);
    expect(await callFunction(t.db, 'release_quota', { p_user_id: user, p_reservation_id: hold!.reservation_id! })).toBe(false);
    const expired = await callFunction(t.db, 'expire_quota_reservations');
    expectTypeOf(expired).toEqualTypeOf<number>();
    expect(expired).toBe(0);
    expect(await callFunction(t.db, 'purge_usage_events', { p_older_than: '3650 days' })).toBe(0);
  });

  it('runs inside a transaction, and as the signed-in user with the SQL default auth.uid()', async () => {
    const k = key();
    await expect(
      t.db.transaction(async (tx) => {
        await callFunction(tx, 'reserve_quota', { p_user_id: user, p_idempotency_key: k, p_estimated_tokens: 1 });
        tx.rollback();
      }),
    ).rejects.toThrow();
    expect(await t.rows(sql`select 1 from quota_reservations where idempotency_key = ${k}`)).toEqual([]);

    const [mine] = await withClaims(t.db, { role: 'authenticated', sub: user }, (tx) => callFunction(tx, 'get_quota_status'));
    expect(mine).toMatchObject({ user_id: user, tier_id: 'free', period_start: expect.any(Date), tokens_percent: expect.any(String) });
  });

  it('refuses undeclared functions, unknown arguments and missing required ones before reaching the database', async () => {
    // @ts-expect-error: not a declared function
    await expect(callFunction(t.db, 'pg_sleep', {})).rejects.toThrow(/no function public\.pg_sleep/);
    // @ts-expect-error: no such argument
    await expect(callFunction(t.db, 'release_quota', { p_user_id: user, p_reservation_id: user, p_force: true })).rejects.toThrow(
      /no argument named p_force/,
    );
    // @ts-expect-error: p_reservation_id is required
    await expect(callFunction(t.db, 'release_quota', { p_user_id: user })).rejects.toThrow(/p_reservation_id is required/);
  });
});

describe('functionCallSql', () => {
  it('writes the same call as text, parameters in the order named, ready to prepare', async () => {
    const text = functionCallSql('record_usage', ['p_user_id', 'p_idempotency_key', 'p_provider', 'p_model', 'p_agent_mode', 'p_cost_usd']);
    expect(text).toBe(
      'select * from public.record_usage(p_user_id => $1::uuid, p_idempotency_key => $2::text, p_provider => $3::text, ' +
        'p_model => $4::text, p_agent_mode => $5::public.agent_mode, p_cost_usd => $6::numeric)',
    );
    const [row] = await t.query<{ cost_source: string }>(text, [user, key(), 'anthropic', 'claude-sonnet-4', 'implement', '0.5']);
    expect(row!.cost_source).toBe('given');
    expect(functionCallSql('expire_quota_reservations', [])).toBe('select * from public.expire_quota_reservations()');
  });

  it('writes constants into the statement as quoted literals cast to their types', async () => {
    const text = functionCallSql('record_usage', ['p_user_id', 'p_idempotency_key'], {
      p_provider: 'anthropic',
      p_model: "it's-a-model",
      p_agent_mode: 'debug',
      p_input_tokens: 12,
    });
    expect(text).toBe(
      'select * from public.record_usage(p_user_id => $1::uuid, p_idempotency_key => $2::text, p_provider => \'anthropic\'::text, ' +
        "p_model => 'it''s-a-model'::text, p_agent_mode => 'debug'::public.agent_mode, p_input_tokens => 12::bigint)",
    );
    const [row] = await t.query<{ total_tokens: string }>(text, [user, key()]);
    expect(Number(row!.total_tokens)).toBe(12);
    expect(() => functionCallSql('record_usage', [], { p_input_tokens: Number.NaN })).toThrow(/finite/);
  });
});
