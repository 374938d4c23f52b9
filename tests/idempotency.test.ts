// An idempotency key never buys a second request: a reservation's key is spent
// once its reservation ends, and a recorded key stays a duplicate for the
// whole idempotency window (30 days from when it was recorded), whatever
// retention does and whatever the request's occurred_at says.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asService } from '../src/auth/withClaims.js';
import { pgErrorOf } from '../src/errors.js';
import { signUpLocal } from '../src/local/auth.js';
import { expireReservations, releaseQuota, reserveQuota } from '../src/queries/quotas.js';
import { purgeUsageEvents, recordUsage } from '../src/queries/usage.js';
import { limits } from '../src/schema/limits.js';
import { freshDatabase, sql, type TestDatabase } from './support/database.js';

let t: TestDatabase;
let user: string;
let n = 0;
const key = () => `i-${++n}`;
const usage = { provider: 'ollama', model: 'llama3', agentMode: 'debug' as const, inputTokens: 100 };

beforeAll(async () => {
  t = await freshDatabase();
  user = await signUpLocal(t.db, { email: 'idem@example.com' });
});
afterAll(() => t?.close());

async function activeHolds(): Promise<number> {
  const [row] = await t.rows<{ n: number }>(sql`select count(*)::int as n from quota_reservations
    where user_id = ${user} and status = 'active' and expires_at > now()`);
  return row!.n;
}

describe('a reservation key is spent once its reservation ends', () => {
  it('while the reservation holds, a retry returns it', async () => {
    const k = key();
    const first = await reserveQuota(t.db, { userId: user, idempotencyKey: k, estimatedTokens: 100 });
    const again = await reserveQuota(t.db, { userId: user, idempotencyKey: k, estimatedTokens: 100 });
    expect(first.granted && again.granted && again.duplicate && again.reservationId === first.reservationId).toBe(true);
  });

  it.each([
    ['settled by the recorded request', async (k: string, id: string) => {
      await recordUsage(t.db, { ...usage, userId: user, idempotencyKey: `${k}-request`, reservationId: id });
    }],
    ['released', async (_k: string, id: string) => {
      expect(await releaseQuota(t.db, { userId: user, reservationId: id })).toBe(true);
    }],
    ['expired', async (_k: string, id: string) => {
      await t.rows(sql`update quota_reservations set created_at = now() - interval '2 minutes', expires_at = now() - interval '1 minute' where id = ${id}`);
      await expireReservations(t.db);
    }],
  ])('once %s, the same key is refused (before: granted again)', async (_name, end) => {
    const k = key();
    const first = await reserveQuota(t.db, { userId: user, idempotencyKey: k, estimatedTokens: 100 });
    if (!first.granted) throw new Error('not granted');
    await end(k, first.reservationId);
    const holds = await activeHolds();
    const again = await reserveQuota(t.db, { userId: user, idempotencyKey: k, estimatedTokens: 100 });
    expect(again).toMatchObject({ granted: false, reason: 'key_already_used', reservationId: first.reservationId });
    expect(await activeHolds()).toBe(holds);
  });

  it('an active reservation past its expiry no longer holds, so its key is refused too', async () => {
    const k = key();
    const first = await reserveQuota(t.db, { userId: user, idempotencyKey: k, estimatedTokens: 100 });
    if (!first.granted) throw new Error('not granted');
    await t.rows(sql`update quota_reservations set created_at = now() - interval '2 minutes', expires_at = now() - interval '1 minute'
      where id = ${first.reservationId}`);
    expect(await reserveQuota(t.db, { userId: user, idempotencyKey: k, estimatedTokens: 100 })).toMatchObject({
      granted: false,
      reason: 'key_already_used',
    });
  });
});

describe('a recorded key outlives retention for the idempotency window', () => {
  async function events(k: string): Promise<number> {
    const [row] = await t.rows<{ n: number }>(sql`select count(*)::int as n from ai_usage_events where user_id = ${user} and idempotency_key = ${k}`);
    return row!.n;
  }
  async function dailyRequests(): Promise<number> {
    const [row] = await t.rows<{ n: number }>(sql`select coalesce(sum(request_count), 0)::int as n from ai_usage_daily where user_id = ${user}`);
    return row!.n;
  }
  const purge = () => asService(t.db, (tx) => purgeUsageEvents(tx, { olderThanDays: limits.idempotencyWindowDays }));
  /** History: the event of key `k` happened `occurred` ago and was recorded `recorded` ago (its key with it). */
  async function age(k: string, occurred: string, recorded: string): Promise<void> {
    await t.rows(sql`with e as (
        update ai_usage_events set occurred_at = now() - ${occurred}::interval,
          created_at = least(created_at, now() - ${recorded}::interval)
        where user_id = ${user} and idempotency_key = ${k} returning id, occurred_at, created_at)
      update ai_usage_event_keys k set occurred_at = e.occurred_at, created_at = e.created_at
      from e where k.event_id = e.id`);
  }

  it('retention may not be shorter than the window', async () => {
    await expect(asService(t.db, (tx) => purgeUsageEvents(tx, { olderThanDays: 1 }))).rejects.toThrow(
      `older_than_days: must be at least ${limits.idempotencyWindowDays} days (the idempotency window)`,
    );
    const direct = await t.rows(sql`select public.purge_usage_events(interval '1 day')`).catch((e: unknown) => pgErrorOf(e));
    expect(direct).toMatchObject({ code: '22023', message: expect.stringMatching(/^older_than: must be at least 30 days/) });
  });

  it('a request recorded late (occurred_at long ago) stays a duplicate after a purge (before: counted twice)', async () => {
    const k = key();
    await recordUsage(t.db, { ...usage, userId: user, idempotencyKey: k });
    // It happened 40 days ago by its own account; it was recorded just now.
    await age(k, '40 days', '0 days');
    const requests = await dailyRequests();
    await purge();
    expect(await events(k)).toBe(1);
    const retry = await recordUsage(t.db, { ...usage, userId: user, idempotencyKey: k });
    expect(retry.duplicate).toBe(true);
    expect(await dailyRequests()).toBe(requests);
  });

  it('the window is measured from the recording: 29 days kept, 31 days purged', async () => {
    const kept = key();
    const gone = key();
    await recordUsage(t.db, { ...usage, userId: user, idempotencyKey: kept });
    await recordUsage(t.db, { ...usage, userId: user, idempotencyKey: gone });
    await age(kept, '45 days', '29 days');
    await age(gone, '45 days', '31 days');
    await purge();
    expect(await events(kept)).toBe(1);
    expect(await events(gone)).toBe(0);
    expect((await recordUsage(t.db, { ...usage, userId: user, idempotencyKey: kept })).duplicate).toBe(true);
    // Maintenance lets keys go once the window has passed: then, and only
    // then, the key is free for a new request.
    await t.rows(sql`select public.run_maintenance()`);
    const [left] = await t.rows<{ kept: number; gone: number }>(sql`select
      count(*) filter (where idempotency_key = ${kept})::int as kept, count(*) filter (where idempotency_key = ${gone})::int as gone
      from ai_usage_event_keys where user_id = ${user}`);
    expect(left).toEqual({ kept: 1, gone: 0 });
    expect((await recordUsage(t.db, { ...usage, userId: user, idempotencyKey: kept })).duplicate).toBe(true);
    expect((await recordUsage(t.db, { ...usage, userId: user, idempotencyKey: gone })).duplicate).toBe(false);
  });

  it('a retry that says another occurred_at, even in another month, is still the same request', async () => {
    const k = key();
    const first = await recordUsage(t.db, { ...usage, userId: user, idempotencyKey: k, occurredAt: new Date(Date.now() - 6 * 86_400_000) });
    const requests = await dailyRequests();
    for (const at of [new Date(), new Date(Date.now() - 3 * 86_400_000), undefined]) {
      const retry = await recordUsage(t.db, { ...usage, userId: user, idempotencyKey: k, occurredAt: at });
      expect(retry).toMatchObject({ duplicate: true, eventId: first.eventId });
    }
    expect(await events(k)).toBe(1);
    expect(await dailyRequests()).toBe(requests);
  });
});
