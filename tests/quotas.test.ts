import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withClaims } from '../src/auth/withClaims.js';
import { ValidationError, pgErrorOf } from '../src/errors.js';
import { signUpLocal } from '../src/local/auth.js';
import { expireReservations, getQuotaStatus, releaseQuota, reserveQuota } from '../src/queries/quotas.js';
import { checkQuotaQuery } from '../src/queries/seedExamples.js';
import { recordUsage } from '../src/queries/usage.js';
import { freshDatabase, needsServer, sql, target, type TestDatabase } from './support/database.js';
import { ageUsage } from './support/fixtures.js';

let t: TestDatabase;
let n = 0;
const key = () => `q-${++n}`;
const usage = { provider: 'ollama', model: 'llama3', agentMode: 'debug' as const };

/** A user on the free tier whose token limit is overridden to `limit`. */
async function userWithLimit(limit: number, extra: Record<string, unknown> = {}) {
  const id = await signUpLocal(t.db, { email: `u${++n}@example.com` });
  await t.rows(sql`update user_quotas set monthly_token_limit_override = ${limit} where user_id = ${id}`);
  for (const [column, value] of Object.entries(extra)) {
    await t.rows(sql`update user_quotas set ${sql.identifier(column)} = ${value} where user_id = ${id}`);
  }
  return id;
}

beforeAll(async () => {
  t = await freshDatabase();
});
afterAll(() => t?.close());

describe('effective limits', () => {
  it('a new user gets the default tier; overrides win; tier changes reach users without overrides', async () => {
    const a = await signUpLocal(t.db, { email: 'tier-a@example.com' });
    const b = await signUpLocal(t.db, { email: 'tier-b@example.com' });
    await t.rows(sql`update user_quotas set monthly_token_limit_override = 42 where user_id = ${b}`);
    await t.rows(sql`update quota_tiers set monthly_token_limit = 2000000 where id = 'free'`);
    const rows = await t.rows<{ user_id: string; tier_id: string; monthly_token_limit: string }>(
      sql`select user_id, tier_id, monthly_token_limit::text from user_quotas where user_id in (${a}, ${b})`,
    );
    const by = Object.fromEntries(rows.map((r) => [r.user_id, r]));
    expect(by[a]).toMatchObject({ tier_id: 'free', monthly_token_limit: '2000000' });
    expect(by[b]!.monthly_token_limit).toBe('42');
    await t.rows(sql`update user_quotas set monthly_token_limit_override = null where user_id = ${b}`);
    const [back] = await t.rows<{ l: string }>(sql`select monthly_token_limit::text as l from user_quotas where user_id = ${b}`);
    expect(back!.l).toBe('2000000');
    // Moving to another tier (plain data) takes its limits.
    await t.rows(sql`insert into quota_tiers (id, name, monthly_token_limit, monthly_cost_limit_usd, daily_request_limit)
      values ('pro', 'Pro', 50000000, 500, 20000)`);
    await t.rows(sql`update user_quotas set tier_id = 'pro' where user_id = ${a}`);
    const status = await getQuotaStatus(t.db, { userId: a });
    expect(status).toMatchObject({ tierId: 'pro', monthlyTokenLimit: 50_000_000, dailyRequestLimit: 20_000 });
  });
});

describe('quota status', () => {
  it('limits, used, reserved, remaining, percentages and flags; the seed query agrees', async () => {
    const u = await userWithLimit(10_000);
    // 1000 tokens two months ago (recorded, then aged), 6000 now.
    await recordUsage(t.db, { ...usage, userId: u, idempotencyKey: key(), inputTokens: 1000 });
    await ageUsage(t, u, 62);
    await recordUsage(t.db, { ...usage, userId: u, idempotencyKey: key(), inputTokens: 6000 });
    const r = await reserveQuota(t.db, { userId: u, idempotencyKey: key(), estimatedTokens: 2500 });
    expect(r.granted).toBe(true);
    const s = (await getQuotaStatus(t.db, { userId: u }))!;
    expect(s).toMatchObject({
      monthlyTokenLimit: 10_000, tokensUsed: 6000, tokensReserved: 2500, tokensRemaining: 1500, tokensPercent: 85,
      requestsToday: 1, requestsReserved: 1, softLimitPercent: 80, softLimitReached: true, hardLimitReached: false,
    });
    expect(s.periodStart.toISOString()).toMatch(/-01T00:00:00\.000Z$/);
    const [seed] = await t.query<{ monthly_token_limit: string; tokens_used: string; tokens_remaining: string }>(checkQuotaQuery, [u]);
    expect(Number(seed!.monthly_token_limit)).toBe(s.monthlyTokenLimit);
    expect(Number(seed!.tokens_used)).toBe(s.tokensUsed);
  });

  it('a reset day other than the 1st moves the period', async () => {
    const u = await userWithLimit(1000, { reset_day: 15 });
    const s = (await getQuotaStatus(t.db, { userId: u }))!;
    expect(s.periodStart.getUTCDate()).toBe(15);
    expect(s.periodStart.getTime()).toBeLessThanOrEqual(Date.now());
    expect(s.periodEnd.getTime()).toBeGreaterThan(Date.now());
  });

  it('a user reads their own status and gets nothing for another user', async () => {
    const a = await userWithLimit(100);
    const b = await userWithLimit(100);
    const own = await withClaims(t.db, { role: 'authenticated', sub: a }, (tx) => getQuotaStatus(tx, { userId: a }));
    expect(own?.userId).toBe(a);
    const other = await withClaims(t.db, { role: 'authenticated', sub: a }, (tx) => getQuotaStatus(tx, { userId: b }));
    expect(other).toBeNull();
    const e = pgErrorOf(await withClaims(t.db, { role: 'anon' }, (tx) => getQuotaStatus(tx, { userId: a })).catch((x) => x));
    expect(e.code).toBe('42501');
  });
});

describe('reservations', () => {
  it('refusal is data naming the limit, not an exception', async () => {
    const u = await userWithLimit(1000);
    const r = await reserveQuota(t.db, { userId: u, idempotencyKey: key(), estimatedTokens: 1001 });
    expect(r).toMatchObject({ granted: false, reason: 'monthly_token_limit', tokensRemaining: 1000 });
    const cost = await reserveQuota(t.db, { userId: u, idempotencyKey: key(), estimatedTokens: 1, estimatedCostUsd: '1000' });
    expect(cost).toMatchObject({ granted: false, reason: 'monthly_cost_limit_usd' });
  });

  it('a used-up limit refuses even an estimate of zero', async () => {
    const u = await userWithLimit(100);
    await recordUsage(t.db, { ...usage, userId: u, idempotencyKey: key(), inputTokens: 100 });
    const r = await reserveQuota(t.db, { userId: u, idempotencyKey: key(), estimatedTokens: 0 });
    expect(r).toMatchObject({ granted: false, reason: 'monthly_token_limit', tokensRemaining: 0 });
    expect((await getQuotaStatus(t.db, { userId: u }))!.hardLimitReached).toBe(true);
  });

  it('the daily request limit refuses too', async () => {
    const u = await userWithLimit(1_000_000, { daily_request_limit_override: 2 });
    expect((await reserveQuota(t.db, { userId: u, idempotencyKey: key(), estimatedTokens: 1 })).granted).toBe(true);
    await recordUsage(t.db, { ...usage, userId: u, idempotencyKey: key() });
    const third = await reserveQuota(t.db, { userId: u, idempotencyKey: key(), estimatedTokens: 1 });
    expect(third).toMatchObject({ granted: false, reason: 'daily_request_limit' });
  });

  it('a retry with the same key returns the first reservation', async () => {
    const u = await userWithLimit(1000);
    const k = key();
    const first = await reserveQuota(t.db, { userId: u, idempotencyKey: k, estimatedTokens: 600 });
    const again = await reserveQuota(t.db, { userId: u, idempotencyKey: k, estimatedTokens: 600 });
    expect(first.granted && again.granted && again.reservationId === first.reservationId && again.duplicate).toBe(true);
    expect((await getQuotaStatus(t.db, { userId: u }))!.tokensReserved).toBe(600);
  });

  it('settling replaces the estimate with the real usage, more or less', async () => {
    const u = await userWithLimit(10_000);
    const low = await reserveQuota(t.db, { userId: u, idempotencyKey: key(), estimatedTokens: 5000 });
    const high = await reserveQuota(t.db, { userId: u, idempotencyKey: key(), estimatedTokens: 100 });
    if (!low.granted || !high.granted) throw new Error('expected grants');
    await recordUsage(t.db, { ...usage, userId: u, idempotencyKey: key(), inputTokens: 1200, reservationId: low.reservationId });
    await recordUsage(t.db, { ...usage, userId: u, idempotencyKey: key(), inputTokens: 900, reservationId: high.reservationId });
    const s = (await getQuotaStatus(t.db, { userId: u }))!;
    expect(s).toMatchObject({ tokensUsed: 2100, tokensReserved: 0, tokensRemaining: 7900 });
    const statuses = await t.rows<{ status: string }>(sql`select status from quota_reservations where user_id = ${u}`);
    expect(statuses.map((r) => r.status)).toEqual(['settled', 'settled']);
  });

  it('release gives the quota back, once', async () => {
    const u = await userWithLimit(1000);
    const r = await reserveQuota(t.db, { userId: u, idempotencyKey: key(), estimatedTokens: 1000 });
    if (!r.granted) throw new Error('expected a grant');
    expect((await reserveQuota(t.db, { userId: u, idempotencyKey: key(), estimatedTokens: 1 })).granted).toBe(false);
    expect(await releaseQuota(t.db, { userId: u, reservationId: r.reservationId })).toBe(true);
    expect(await releaseQuota(t.db, { userId: u, reservationId: r.reservationId })).toBe(false);
    expect((await reserveQuota(t.db, { userId: u, idempotencyKey: key(), estimatedTokens: 1000 })).granted).toBe(true);
  });

  it("releasing another user's reservation is refused, naming the field", async () => {
    const a = await userWithLimit(1000);
    const b = await userWithLimit(1000);
    const r = await reserveQuota(t.db, { userId: a, idempotencyKey: key(), estimatedTokens: 10 });
    if (!r.granted) throw new Error('expected a grant');
    const error = await releaseQuota(t.db, { userId: b, reservationId: r.reservationId }).catch((e) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.field).toBe('reservation_id');
  });

  it('expired reservations stop counting at once, and the sweep marks them', async () => {
    const u = await userWithLimit(1000);
    const r = await reserveQuota(t.db, { userId: u, idempotencyKey: key(), estimatedTokens: 1000, ttlSeconds: 1 });
    if (!r.granted) throw new Error('expected a grant');
    await t.rows(sql`update quota_reservations set expires_at = created_at + interval '1 millisecond', created_at = created_at - interval '1 minute' where id = ${r.reservationId}`);
    expect((await getQuotaStatus(t.db, { userId: u }))!.tokensReserved).toBe(0);
    expect((await reserveQuota(t.db, { userId: u, idempotencyKey: key(), estimatedTokens: 1000 })).granted).toBe(true);
    expect(await expireReservations(t.db)).toBeGreaterThanOrEqual(1);
    const [row] = await t.rows<{ status: string }>(sql`select status from quota_reservations where id = ${r.reservationId}`);
    expect(row!.status).toBe('expired');
    // A request that outlived its reservation is still recorded, and settles it.
    await recordUsage(t.db, { ...usage, userId: u, idempotencyKey: key(), inputTokens: 5, reservationId: r.reservationId });
    const [after] = await t.rows<{ status: string }>(sql`select status from quota_reservations where id = ${r.reservationId}`);
    expect(after!.status).toBe('settled');
  });

  it('bad input names the field', async () => {
    const u = await userWithLimit(1000);
    for (const [patch, field] of [
      [{ estimatedTokens: -1 }, 'estimated_tokens'],
      [{ idempotencyKey: '' }, 'idempotency_key'],
      [{ ttlSeconds: 0 }, 'ttl_seconds'],
      [{ userId: 'nope' }, 'user_id'],
    ] as const) {
      const error = await reserveQuota(t.db, { ...{ userId: u, idempotencyKey: key(), estimatedTokens: 1 }, ...(patch as object) } as never).catch((e) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect(error.field).toBe(field);
    }
    const missing = await reserveQuota(t.db, { userId: '00000000-0000-4000-8000-000000000001', idempotencyKey: key(), estimatedTokens: 1 }).catch((e) => e);
    expect(missing.field).toBe('user_id');
  });

  it('only service_role reserves and releases', async () => {
    const u = await userWithLimit(1000);
    for (const claims of [{ role: 'anon' as const }, { role: 'authenticated' as const, sub: u }]) {
      const e = pgErrorOf(await withClaims(t.db, claims, (tx) => reserveQuota(tx, { userId: u, idempotencyKey: key(), estimatedTokens: 1 })).catch((x) => x));
      expect(e.code).toBe('42501');
    }
  });

  it.skipIf(target().kind === 'pglite')(`50 concurrent reservations never grant more than the remaining quota (${needsServer})`, async () => {
    const limit = 10_000;
    const u = await userWithLimit(limit);
    await recordUsage(t.db, { ...usage, userId: u, idempotencyKey: key(), inputTokens: 1_234 });
    const remaining = limit - 1_234;
    const pool = t.connect(10);
    const estimates = Array.from({ length: 50 }, (_, i) => 200 + ((i * 97) % 400));
    const results = await Promise.all(
      estimates.map((estimatedTokens, i) => reserveQuota(pool.db, { userId: u, idempotencyKey: `burst-${i}`, estimatedTokens })),
    );
    const grantedTokens = results.reduce((sum, r, i) => sum + (r.granted ? estimates[i]! : 0), 0);
    const granted = results.filter((r) => r.granted).length;
    expect(grantedTokens).toBeLessThanOrEqual(remaining);
    // Refusals happen only when the next estimate truly did not fit.
    const smallestRefused = Math.min(...results.flatMap((r, i) => (r.granted ? [] : [estimates[i]!])));
    expect(remaining - grantedTokens).toBeLessThan(smallestRefused);
    const s = (await getQuotaStatus(t.db, { userId: u }))!;
    expect(s.tokensReserved).toBe(grantedTokens);
    console.log(`[figures] 50 concurrent reservations: ${granted} granted, ${grantedTokens} tokens of ${remaining} remaining (limit ${limit}); ${50 - granted} refused`);
  });
});

describe('reservations are derived rows', () => {
  it('only the quota functions write them, and every row they leave keeps the rules', async () => {
    const u = await userWithLimit(1_000_000);
    const made: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await reserveQuota(t.db, { userId: u, idempotencyKey: key(), estimatedTokens: 100 + i, estimatedCostUsd: '0.01', ttlSeconds: 60 });
      if (!r.granted) throw new Error(`refused: ${r.reason}`);
      made.push(r.reservationId);
    }
    await recordUsage(t.db, { ...usage, userId: u, idempotencyKey: key(), inputTokens: 50, reservationId: made[0] });
    await releaseQuota(t.db, { userId: u, reservationId: made[1]! });
    await t.rows(sql`update quota_reservations set expires_at = created_at + interval '1 millisecond' where id = ${made[2]}`);
    await expireReservations(t.db);
    const rows = await t.rows<{ id: string; status: string; ok: boolean }>(sql`select id, status::text, (
        char_length(idempotency_key) between 1 and 200 and estimated_tokens >= 0 and estimated_cost_usd >= 0
        and expires_at > created_at and (status = 'active') = (resolved_at is null)) as ok
      from quota_reservations where user_id = ${u}`);
    rows.sort((a, b) => made.indexOf(a.id) - made.indexOf(b.id));
    expect(rows.map(({ status, ok }) => ({ status, ok }))).toEqual([
      { status: 'settled', ok: true },
      { status: 'released', ok: true },
      { status: 'expired', ok: true },
      { status: 'active', ok: true },
    ]);
    // Not even the backend's key writes them directly.
    for (const statement of [
      sql`insert into quota_reservations (user_id, idempotency_key, estimated_tokens, expires_at) values (${u}, ${key()}, 1, now() + interval '1 hour')`,
      sql`update quota_reservations set status = 'active', resolved_at = null where user_id = ${u}`,
      sql`delete from quota_reservations where user_id = ${u}`,
    ]) {
      const e = await withClaims(t.db, { role: 'service_role' }, (tx) => tx.execute(statement)).then(() => null, (error: unknown) => pgErrorOf(error));
      expect(e?.code).toBe('42501');
    }
  });
});

describe('reservation ids', () => {
  it('are UUIDs of version 7 that sort in the order the reservations were made', async () => {
    const u = await userWithLimit(1_000_000);
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await reserveQuota(t.db, { userId: u, idempotencyKey: key(), estimatedTokens: 10 });
      if (!r.granted) throw new Error(`refused: ${r.reason}`);
      ids.push(r.reservationId);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect([...ids].sort()).toEqual(ids);
    // The leading 48 bits are the creation time in milliseconds.
    const [row] = await t.rows<{ created: string }>(sql`select (extract(epoch from created_at) * 1000)::bigint::text as created
      from quota_reservations where id = ${ids[0]}`);
    const millis = parseInt(ids[0]!.replaceAll('-', '').slice(0, 12), 16);
    expect(Math.abs(millis - Number(row!.created))).toBeLessThan(1000);
  });
});
