// Quotas hold at every isolation level. reserve_quota locks the user's quota
// row and then sums usage and holds; under REPEATABLE READ or SERIALIZABLE
// the transaction's snapshot is older than that lock, and 12 concurrent holds
// of 1,500 against a 10,000 limit once granted over 23,000. Now it decides at
// READ COMMITTED and refuses the stricter levels with a clear error, granting
// nothing. record_usage keeps the totals exact at every level: a concurrent
// change to a total fails with a serialization error (retry), never a lost
// update.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../src/db.js';
import { queryRows } from '../src/db.js';
import { pgErrorOf } from '../src/errors.js';
import { signUpLocal } from '../src/local/auth.js';
import { getQuotaStatus, reserveQuota, type Reservation } from '../src/queries/quotas.js';
import { recordAdjustment, recordUsage } from '../src/queries/usage.js';
import { freshDatabase, needsServer, target, type TestDatabase } from './support/database.js';

type Level = 'read committed' | 'repeatable read' | 'serializable';

let t: TestDatabase;
let n = 0;

beforeAll(async () => {
  t = await freshDatabase();
});
afterAll(() => t?.close());

async function userWithLimit(limit: number): Promise<string> {
  const id = await signUpLocal(t.db, { email: `iso${++n}@example.com` });
  await t.rows(sql`update user_quotas set monthly_token_limit_override = ${limit} where user_id = ${id}`);
  return id;
}

/** reserveQuota as service_role inside a transaction at `level`. */
function reserveAt(db: Db, level: Level, userId: string, key: string, estimatedTokens: number): Promise<Reservation> {
  return db.transaction(
    async (tx) => {
      await tx.execute(sql`select set_config('role', 'service_role', true)`);
      return reserveQuota(tx, { userId, idempotencyKey: key, estimatedTokens });
    },
    { isolationLevel: level },
  );
}

describe('reserve_quota at each isolation level', () => {
  it('READ COMMITTED decides; REPEATABLE READ and SERIALIZABLE are refused with a clear error that names the level', async () => {
    const u = await userWithLimit(10_000);
    expect((await reserveAt(t.db, 'read committed', u, 'rc', 100)).granted).toBe(true);
    for (const level of ['repeatable read', 'serializable'] as const) {
      const e = pgErrorOf(await reserveAt(t.db, level, u, `k-${level}`, 100).then(() => null, (error: unknown) => error));
      expect(e.code).toBe('25000');
      expect(e.message).toBe(`reserve_quota: needs a READ COMMITTED transaction, and this one is ${level.toUpperCase()}`);
    }
    expect((await getQuotaStatus(t.db, { userId: u }))!.requestsReserved).toBe(1);
  });

  for (const level of ['read committed', 'repeatable read', 'serializable'] as const) {
    it.skipIf(target().kind === 'pglite')(
      `12 concurrent holds of 1,500 against 10,000 at ${level.toUpperCase()}: never more than the limit (${needsServer})`,
      async () => {
        const u = await userWithLimit(10_000);
        const pool = t.connect(12);
        const outcomes = await Promise.all(
          Array.from({ length: 12 }, (_, i) =>
            reserveAt(pool.db, level, u, `burst-${i}`, 1_500).then(
              (r) => (r.granted ? 'granted' : r.reason),
              (error: unknown) => pgErrorOf(error).code ?? 'error',
            ),
          ),
        );
        const granted = outcomes.filter((o) => o === 'granted').length;
        const status = (await getQuotaStatus(t.db, { userId: u }))!;
        expect(status.tokensReserved).toBe(granted * 1_500);
        expect(status.tokensReserved).toBeLessThanOrEqual(10_000);
        if (level === 'read committed') {
          expect(granted).toBe(6);
          expect(outcomes.filter((o) => o === 'monthly_token_limit')).toHaveLength(6);
        } else {
          expect(granted).toBe(0);
          expect(outcomes).toEqual(Array(12).fill('25000'));
        }
        console.log(`[figures] 12 x 1,500 against 10,000 at ${level}: ${granted} granted, ${status.tokensReserved} tokens held`);
      },
    );
  }
});

describe('record_usage at each isolation level', () => {
  it.skipIf(target().kind === 'pglite')(
    `8 connections recording for one user at REPEATABLE READ and SERIALIZABLE: retried conflicts, exact totals (${needsServer})`,
    async () => {
      const u = await signUpLocal(t.db, { email: `iso-rec${++n}@example.com` });
      const pool = t.connect(8);
      let conflicts = 0;
      const record = async (i: number) => {
        const level: Level = i % 2 === 0 ? 'repeatable read' : 'serializable';
        for (;;) {
          try {
            return await pool.db.transaction(
              async (tx) => {
                await tx.execute(sql`select set_config('role', 'service_role', true)`);
                return recordUsage(tx, { userId: u, idempotencyKey: `r-${i}`, provider: 'ollama', model: 'llama3', agentMode: 'debug', inputTokens: 10 + i });
              },
              { isolationLevel: level },
            );
          } catch (error) {
            if (pgErrorOf(error).code !== '40001') throw error;
            conflicts += 1;
          }
        }
      };
      await Promise.all(Array.from({ length: 80 }, (_, i) => record(i)));
      const [sums] = await queryRows<{ events: number; raw: string; daily_requests: number; daily: string }>(t.db, sql`select
        (select count(*)::int from ai_usage_events where user_id = ${u}) as events,
        (select sum(total_tokens)::text from ai_usage_events where user_id = ${u}) as raw,
        (select sum(request_count)::int from ai_usage_daily where user_id = ${u}) as daily_requests,
        (select sum(total_tokens)::text from ai_usage_daily where user_id = ${u}) as daily`);
      expect(sums).toEqual({ events: 80, raw: String(80 * 10 + (79 * 80) / 2), daily_requests: 80, daily: sums!.raw });
      console.log(`[figures] 80 recordings at REPEATABLE READ / SERIALIZABLE from 8 connections: ${conflicts} serialization conflicts retried, totals exact`);
    },
  );

  it('record_adjustment decides from what it reads too: refused at REPEATABLE READ', async () => {
    const u = await signUpLocal(t.db, { email: `iso-adj${++n}@example.com` });
    const event = await recordUsage(t.db, { userId: u, idempotencyKey: 'a', provider: 'ollama', model: 'llama3', agentMode: 'debug', inputTokens: 10 });
    const e = await t.db
      .transaction(
        async (tx) => {
          await tx.execute(sql`select set_config('role', 'service_role', true)`);
          return recordAdjustment(tx, { eventId: event.eventId, idempotencyKey: 'fix', reason: 'test', inputTokens: -1 });
        },
        { isolationLevel: 'repeatable read' },
      )
      .then(() => null, (error: unknown) => pgErrorOf(error));
    expect(e).toMatchObject({ code: '25000', message: 'record_adjustment: needs a READ COMMITTED transaction, and this one is REPEATABLE READ' });
  });
});
