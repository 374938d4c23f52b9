// Quota notifications: written in the transaction that reaches a threshold,
// exactly once per user, limit, threshold and period, whatever the
// concurrency; told to the user through Realtime (publication, RLS, column
// grants) and to backends through the outbox (claim, ack, fail, retention).
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asService, withClaims } from '../src/auth/withClaims.js';
import { queryRows } from '../src/db.js';
import { pgErrorOf, ValidationError } from '../src/errors.js';
import { signUpLocal } from '../src/local/auth.js';
import {
  ackNotification,
  claimNotifications,
  failNotification,
  notificationChannel,
  purgeNotifications,
  runNotificationWorker,
  type ClaimedNotification,
} from '../src/queries/notifications.js';
import { reserveQuota } from '../src/queries/quotas.js';
import { recordAdjustment, recordUsage } from '../src/queries/usage.js';
import { functionCallSql } from '../src/rpc.js';
import { limits } from '../src/schema/limits.js';
import { freshDatabase, needsServer, sql, target, type TestDatabase } from './support/database.js';
import { ageUsage } from './support/fixtures.js';

let t: TestDatabase;
let n = 0;

beforeAll(async () => {
  t = await freshDatabase();
});
afterAll(() => t?.close());

interface Limits {
  tokens?: number;
  costUsd?: string;
  requests?: number;
}

/** A new user with their own limits (overrides of the free tier). */
async function userWith(l: Limits = {}): Promise<string> {
  const id = await signUpLocal(t.db, { email: `notify${++n}@example.com` });
  await t.rows(sql`update user_quotas set
    monthly_token_limit_override = ${l.tokens ?? 1_000_000_000},
    monthly_cost_limit_usd_override = ${l.costUsd ?? '1000000'}::numeric,
    daily_request_limit_override = ${l.requests ?? 1_000_000}
    where user_id = ${id}`);
  return id;
}

const record = (userId: string, key: string, inputTokens: number, costUsd?: string) =>
  recordUsage(t.db, { userId, idempotencyKey: key, provider: 'openai', model: 'gpt-4.1', agentMode: 'implement', inputTokens, costUsd });

interface Row {
  kind: string;
  quota_limit: string;
  threshold_percent: number;
  used: string;
  limit_value: string;
  period_start: Date;
}

async function notificationsOf(userId: string): Promise<Row[]> {
  return t.rows<Row>(sql`select kind::text, quota_limit::text, threshold_percent, used::text, limit_value::text, period_start
    from quota_notifications where user_id = ${userId} order by id`);
}

const brief = (rows: Row[]) => rows.map((r) => `${r.kind} ${r.quota_limit} ${r.threshold_percent}% at ${r.used}/${r.limit_value}`);

describe('written where the threshold is reached', () => {
  it('each threshold of the tier once, with the exact figure reached, in the period of the quota', async () => {
    const u = await userWith({ tokens: 1_000 });
    await record(u, 'a', 400);
    expect(await notificationsOf(u)).toEqual([]);
    await record(u, 'b', 100);
    await record(u, 'c', 299);
    expect(brief(await notificationsOf(u))).toEqual(['threshold_reached monthly_tokens 50% at 500/1000']);
    await record(u, 'd', 1);
    await record(u, 'e', 5_000);
    await record(u, 'f', 10);
    const rows = await notificationsOf(u);
    expect(brief(rows)).toEqual([
      'threshold_reached monthly_tokens 50% at 500/1000',
      'threshold_reached monthly_tokens 80% at 800/1000',
      'threshold_reached monthly_tokens 100% at 5800/1000',
    ]);
    const [period] = await t.rows<{ start: Date }>(sql`select period_start as start from get_quota_status(${u})`);
    for (const row of rows) expect(row.period_start).toEqual(period!.start);
  });

  it('a retried key, a duplicate, or a request below the next threshold writes nothing more', async () => {
    const u = await userWith({ tokens: 1_000 });
    await record(u, 'a', 500);
    expect(await record(u, 'a', 500)).toMatchObject({ duplicate: true });
    await record(u, 'b', 100);
    expect(await record(u, 'b', 100)).toMatchObject({ duplicate: true });
    expect(brief(await notificationsOf(u))).toEqual(['threshold_reached monthly_tokens 50% at 500/1000']);
  });

  it('monthly cost and daily requests have their own series; one request may reach several thresholds at once', async () => {
    const u = await userWith({ costUsd: '2', requests: 10 });
    await record(u, 'a', 10, '0.5');
    await record(u, 'b', 10, '1.2');
    for (let i = 0; i < 6; i += 1) await record(u, `r${i}`, 1, '0');
    expect(brief(await notificationsOf(u))).toEqual([
      'threshold_reached monthly_cost_usd 50% at 1.7/2',
      'threshold_reached monthly_cost_usd 80% at 1.7/2',
      'threshold_reached daily_requests 50% at 5/10',
      'threshold_reached daily_requests 80% at 8/10',
    ]);
    const [daily] = (await notificationsOf(u)).filter((r) => r.quota_limit === 'daily_requests');
    const [today] = await t.rows<{ day: Date }>(sql`select date_trunc('day', now(), 'UTC') as day`);
    expect(daily!.period_start).toEqual(today!.day);
  });

  it("a tier's own thresholds; a change of limits counts again against the new ones", async () => {
    await t.rows(sql`insert into quota_tiers (id, name, monthly_token_limit, monthly_cost_limit_usd, daily_request_limit, alert_percents)
      values ('alerts90', 'Alerts at 90', 1000, 100, 1000, '{90}')`);
    const u = await signUpLocal(t.db, { email: `notify${++n}@example.com` });
    await t.rows(sql`update user_quotas set tier_id = 'alerts90' where user_id = ${u}`);
    await record(u, 'a', 850);
    expect(await notificationsOf(u)).toEqual([]);
    // Lowering the limit puts the user past 90% already: the next request tells.
    await t.rows(sql`update user_quotas set monthly_token_limit_override = 900 where user_id = ${u}`);
    await record(u, 'b', 1);
    expect(brief(await notificationsOf(u))).toEqual(['threshold_reached monthly_tokens 90% at 851/900']);
    // New thresholds of the tier reach its users.
    await t.rows(sql`update quota_tiers set alert_percents = '{95, 99}' where id = 'alerts90'`);
    await record(u, 'c', 30);
    expect(brief(await notificationsOf(u)).slice(1)).toEqual(['threshold_reached monthly_tokens 95% at 881/900']);
  });

  it('alert thresholds are whole percentages 1-100, at most ten: anything else is refused', async () => {
    for (const bad of ['{0}', '{101}', '{50,null}', '{{50},{80}}', `{${Array.from({ length: 11 }, (_, i) => i + 1).join(',')}}`]) {
      const e = await t
        .rows(sql`update quota_tiers set alert_percents = ${bad}::smallint[] where id = 'free'`)
        .then(() => null, (error: unknown) => pgErrorOf(error));
      expect(e?.code, bad).toMatch(/^(23514|2202E)$/);
    }
    await t.rows(sql`update quota_tiers set alert_percents = '{}' where id = 'alerts90'`);
  });

  it('a correction that adds usage can reach a threshold too', async () => {
    const u = await userWith({ tokens: 1_000 });
    const first = await record(u, 'a', 400);
    await recordAdjustment(t.db, { eventId: first.eventId, idempotencyKey: 'fix', reason: 'provider invoice', inputTokens: 450 });
    expect(brief(await notificationsOf(u))).toEqual([
      'threshold_reached monthly_tokens 50% at 850/1000',
      'threshold_reached monthly_tokens 80% at 850/1000',
    ]);
    // A refund takes usage back under 50%; reaching it again in the same period tells nobody twice.
    await recordAdjustment(t.db, { eventId: first.eventId, idempotencyKey: 'fix-2', reason: 'refund', inputTokens: -600 });
    await record(u, 'b', 400);
    expect(await notificationsOf(u)).toHaveLength(2);
  });

  it('a refusal at a hard limit is told once per limit and period', async () => {
    const u = await userWith({ tokens: 1_000, requests: 3 });
    await record(u, 'a', 1_000);
    const refused = await reserveQuota(t.db, { userId: u, idempotencyKey: 'r1', estimatedTokens: 10 });
    expect(refused).toMatchObject({ granted: false, reason: 'monthly_token_limit' });
    await reserveQuota(t.db, { userId: u, idempotencyKey: 'r2', estimatedTokens: 10 });
    const rows = (await notificationsOf(u)).filter((r) => r.kind === 'limit_refused');
    expect(brief(rows)).toEqual(['limit_refused monthly_tokens 100% at 1000/1000']);
  });

  it('a new period starts a new series', async () => {
    const u = await userWith({ tokens: 1_000 });
    await record(u, 'a', 600);
    // Time passes: the usage and its notification move one period back.
    await ageUsage(t, u, 40);
    await t.rows(sql`update quota_notifications set period_start = period_start - interval '40 days' where user_id = ${u}`);
    await t.rows(sql`delete from quota_alert_headroom where user_id = ${u}`);
    await record(u, 'b', 550);
    const rows = await notificationsOf(u);
    expect(brief(rows)).toEqual([
      'threshold_reached monthly_tokens 50% at 600/1000',
      'threshold_reached monthly_tokens 50% at 550/1000',
    ]);
    expect(new Date(rows[1]!.period_start).getTime()).toBeGreaterThan(new Date(rows[0]!.period_start).getTime());
  });

  it('far from every threshold a request takes its share of the headroom in one row; the shares never add up to more than the distance', async () => {
    const u = await userWith({ tokens: 1_000_000, costUsd: '50', requests: 1_000 });
    const shares = async () => {
      const rows = await t.rows<{ bucket: number; tokens: string; cost: string; requests: string }>(sql`select bucket,
        tokens_left::text as tokens, cost_left_usd::text as cost, requests_left::text as requests
        from quota_alert_headroom where user_id = ${u} order by bucket`);
      const sum = (pick: (r: (typeof rows)[number]) => string) => rows.reduce((total, r) => total + Number(pick(r)), 0);
      return { buckets: rows.map((r) => r.bucket), tokens: sum((r) => r.tokens), cost: sum((r) => r.cost), requests: sum((r) => r.requests) };
    };
    const used = async () => {
      const [s] = await t.rows<{ tokens: string; cost: string; requests: string }>(sql`select tokens_used::text as tokens,
        cost_used_usd::text as cost, requests_today::text as requests from get_quota_status(${u})`);
      return { tokens: Number(s!.tokens), cost: Number(s!.cost), requests: Number(s!.requests) };
    };
    const first = await record(u, 'a', 1_000, '0.25');
    await record(u, 'a', 1_000, '0.25'); // a retry takes nothing
    await recordUsage(t.db, { userId: u, idempotencyKey: 'local', provider: 'ollama', model: 'llama3', agentMode: 'debug', inputTokens: 7 });
    await recordAdjustment(t.db, { eventId: first.eventId, idempotencyKey: 'fix', reason: 'invoice', inputTokens: -100, costUsd: '0.05' });
    await recordUsage(t.db, { userId: u, idempotencyKey: 'late', provider: 'openai', model: 'gpt-4.1', agentMode: 'debug', inputTokens: 30,
      costUsd: '0.01', occurredAt: new Date(Date.now() - 86_400_000) });
    for (let i = 0; i < 40; i += 1) {
      await record(u, `k${i}`, 1_000 + i, '0.01');
      const [s, now] = [await shares(), await used()];
      expect(s.buckets).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
      // The next thresholds are 50% of each limit: 500,000 tokens, 25 USD, 500 requests.
      expect(s.tokens).toBeLessThanOrEqual(500_000 - now.tokens);
      expect(s.cost).toBeLessThanOrEqual(25 - now.cost + 1e-9);
      expect(s.requests).toBeLessThanOrEqual(500 - now.requests);
      expect(s.tokens).toBeGreaterThan(0);
    }
    expect(await notificationsOf(u)).toEqual([]);
  });
});

describe('exactly once under concurrency and crashes', () => {
  it.skipIf(target().kind === 'pglite')(
    `a hundred concurrent requests crossing 80% together make one 80% notification, with the exact figure (${needsServer})`,
    async () => {
      const u = await userWith({ tokens: 100_000 });
      await record(u, 'start', 79_000);
      const pool = t.connect(16);
      const results = await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          recordUsage(pool.db, { userId: u, idempotencyKey: `c${i}`, provider: 'openai', model: 'gpt-4.1', agentMode: 'debug', inputTokens: 100 }),
        ),
      );
      expect(results.every((r) => !r.duplicate)).toBe(true);
      const rows = await notificationsOf(u);
      // Each request adds 100 from 79,000: the request that reaches 80% sees exactly 80,000.
      expect(brief(rows)).toEqual([
        'threshold_reached monthly_tokens 50% at 79000/100000',
        'threshold_reached monthly_tokens 80% at 80000/100000',
      ]);
      const [status] = await t.rows<{ tokens_used: number }>(sql`select tokens_used from get_quota_status(${u})`);
      expect(Number(status!.tokens_used)).toBe(89_000);
    },
  );

  it.skipIf(target().kind === 'pglite')(
    `300 requests on 16 connections through every threshold of three limits: each told once, at the exact figure (${needsServer})`,
    async () => {
      const u = await userWith({ tokens: 20_000, costUsd: '2', requests: 250 });
      const pool = t.connect(16);
      await Promise.all(
        Array.from({ length: 300 }, (_, i) =>
          recordUsage(pool.db, { userId: u, idempotencyKey: `h${i}`, provider: 'openai', model: 'gpt-4.1', agentMode: 'debug', inputTokens: 100, costUsd: '0.01' }),
        ),
      );
      // Every request adds 100 tokens, 0.01 USD and one request: each threshold is reached exactly at its figure.
      expect(brief(await notificationsOf(u)).sort()).toEqual(
        [
          'threshold_reached monthly_tokens 50% at 10000/20000',
          'threshold_reached monthly_tokens 80% at 16000/20000',
          'threshold_reached monthly_tokens 100% at 20000/20000',
          'threshold_reached monthly_cost_usd 50% at 1/2',
          'threshold_reached monthly_cost_usd 80% at 1.6/2',
          'threshold_reached monthly_cost_usd 100% at 2/2',
          'threshold_reached daily_requests 50% at 125/250',
          'threshold_reached daily_requests 80% at 200/250',
          'threshold_reached daily_requests 100% at 250/250',
        ].sort(),
      );
    },
  );

  it.skipIf(target().kind === 'pglite')(
    `a connection lost around its commit, then the key retried: one event and one notification either way (${needsServer})`,
    async () => {
      const call = functionCallSql('record_usage', ['p_user_id', 'p_idempotency_key', 'p_provider', 'p_model', 'p_agent_mode', 'p_input_tokens']);
      let committed = 0;
      for (let i = 0; i < 6; i += 1) {
        const u = await userWith({ tokens: 1_000 });
        await record(u, 'start', 790);
        const name = `victim-${i}-${Math.random().toString(36).slice(2)}`;
        const victim = postgres(t.url!, { max: 1, onnotice: () => {}, connection: { application_name: name } });
        const reserved = await victim.reserve();
        await reserved.unsafe(`begin; set local role service_role`);
        await reserved.unsafe(call, [u, 'crash', 'openai', 'gpt-4.1', 'debug', 20]);
        // Send COMMIT and drop the connection without waiting for the reply.
        const commit = reserved.unsafe('commit').catch(() => undefined);
        await victim.end({ timeout: i % 2 === 0 ? 0 : 0.001 });
        await commit;
        // Whatever the server did with the COMMIT is done once its backend is gone.
        for (;;) {
          const [left] = await t.rows<{ n: number }>(sql`select count(*)::int as n from pg_stat_activity where application_name = ${name}`);
          if (left!.n === 0) break;
          await new Promise((r) => setTimeout(r, 5));
        }
        const [before] = await t.rows<{ events: number }>(sql`select count(*)::int as events from ai_usage_events
          where user_id = ${u} and idempotency_key = 'crash'`);
        committed += before!.events;
        const retried = await record(u, 'crash', 20);
        expect(retried.duplicate).toBe(before!.events === 1);
        expect(brief(await notificationsOf(u))).toEqual([
          'threshold_reached monthly_tokens 50% at 790/1000',
          'threshold_reached monthly_tokens 80% at 810/1000',
        ]);
      }
      console.log(`[figures] lost connections around commit: ${committed} of 6 had committed; each retry made no second event or notification`);
    },
  );
});

describe('to the client: Supabase Realtime', () => {
  it('the table is in the supabase_realtime publication', async () => {
    const rows = await t.rows<{ table: string }>(sql`select tablename as table from pg_publication_tables
      where pubname = 'supabase_realtime' and schemaname = 'public'`);
    expect(rows.map((r) => r.table)).toEqual(['quota_notifications']);
  });

  it('what Realtime checks per subscriber: the owner sees the row, another user and anon nothing; delivery columns are not theirs', async () => {
    const a = await userWith({ tokens: 100 });
    const b = await userWith({ tokens: 100 });
    await record(a, 'x', 60);
    const [{ id }] = (await t.rows<{ id: number }>(sql`select id from quota_notifications where user_id = ${a}`)) as [{ id: number }];
    const visible = (sub?: string) =>
      withClaims(t.db, sub ? { role: 'authenticated', sub } : { role: 'anon' }, (tx) =>
        queryRows<{ id: number }>(tx, sql`select id, kind, quota_limit, threshold_percent, used, limit_value, read_at from quota_notifications where id = ${id}`),
      ).then((rows) => rows.length, (error: unknown) => pgErrorOf(error).code);
    expect(await visible(a)).toBe(1);
    expect(await visible(b)).toBe(0);
    expect(await visible()).toBe('42501');
    const [columns] = await t.rows<{ hidden: string[] }>(sql`select array_agg(attname::text order by attnum) as hidden from pg_attribute
      where attrelid = 'public.quota_notifications'::regclass and attnum > 0
        and not has_column_privilege('authenticated', 'public.quota_notifications', attname, 'SELECT')`);
    expect(columns!.hidden).toEqual(['delivered_at', 'claim_id', 'claimed_until', 'attempts', 'last_error', 'gave_up_at']);
  });

  it('the user marks their own notification read and changes nothing else; nobody inserts one', async () => {
    const a = await userWith({ tokens: 100 });
    const b = await userWith({ tokens: 100 });
    await record(a, 'x', 60);
    const [{ id }] = (await t.rows<{ id: number }>(sql`select id from quota_notifications where user_id = ${a}`)) as [{ id: number }];
    const asUserDo = (sub: string, statement: ReturnType<typeof sql>) =>
      withClaims(t.db, { role: 'authenticated', sub }, (tx) => queryRows(tx, statement)).then((rows) => rows.length, (error: unknown) => pgErrorOf(error).code);
    expect(await asUserDo(a, sql`update quota_notifications set read_at = now() where id = ${id} returning id`)).toBe(1);
    expect(await asUserDo(b, sql`update quota_notifications set read_at = null where id = ${id} returning id`)).toBe(0);
    for (const change of ['used = 0', 'threshold_percent = 1', 'delivered_at = now()', 'attempts = 99', 'created_at = now()', `user_id = '${b}'`]) {
      expect(await asUserDo(a, sql`update quota_notifications set ${sql.raw(change)} where id = ${id} returning id`), change).toBe('42501');
    }
    expect(
      await asUserDo(a, sql`insert into quota_notifications (user_id, kind, quota_limit, threshold_percent, period_start, used, limit_value)
        values (${a}, 'threshold_reached', 'monthly_tokens', 1, now(), 0, 0) returning id`),
    ).toBe('42501');
    expect(await asUserDo(a, sql`delete from quota_notifications where id = ${id} returning id`)).toBe('42501');
    for (const fn of [sql`select * from claim_notifications(10)`, sql`select ack_notification(${id}, gen_random_uuid())`]) {
      expect(await asUserDo(a, fn)).toBe('42501');
    }
    const [row] = await t.rows<{ read: boolean; used: string }>(sql`select read_at is not null as read, used::text from quota_notifications where id = ${id}`);
    expect(row).toEqual({ read: true, used: '60' });
  });
});

describe('to backends: the outbox', () => {
  /** Clears the outbox of earlier tests, so each test claims only its own rows. */
  async function emptyOutbox(): Promise<void> {
    await t.rows(sql`update quota_notifications set delivered_at = now() where delivered_at is null`);
  }

  async function notificationsFor(count: number): Promise<number[]> {
    const ids: number[] = [];
    for (let i = 0; i < count; i += 1) {
      const u = await userWith({ tokens: 100 });
      await record(u, 'x', 60);
      const rows = await t.rows<{ id: number }>(sql`select id from quota_notifications where user_id = ${u}`);
      ids.push(...rows.map((r) => Number(r.id)));
    }
    return ids;
  }

  it('claim, ack: delivered once; an ack with a stale claim is refused; acking again is a no-op', async () => {
    await emptyOutbox();
    const [id] = await notificationsFor(1);
    const [claimed] = await asService(t.db, (tx) => claimNotifications(tx, { batch: 10 }));
    expect(claimed).toMatchObject({ id, attempts: 1, kind: 'threshold_reached', quotaLimit: 'monthly_tokens', thresholdPercent: 50, used: '60', limitValue: '100' });
    expect(await asService(t.db, (tx) => claimNotifications(tx))).toEqual([]); // held by the claim
    expect(await ackNotification(t.db, { id: id!, claimId: '00000000-0000-4000-8000-000000000000' })).toBe(false);
    expect(await ackNotification(t.db, { id: id!, claimId: claimed!.claimId })).toBe(true);
    expect(await ackNotification(t.db, { id: id!, claimId: claimed!.claimId })).toBe(true);
    expect(await claimNotifications(t.db)).toEqual([]);
  });

  it('an unacknowledged claim comes back after its visibility timeout, with a doubled timeout each time, and is given up after the last attempt', async () => {
    await emptyOutbox();
    const [id] = await notificationsFor(1);
    const first = await claimNotifications(t.db, { visibilitySeconds: 1 });
    const [held] = await t.rows<{ seconds: number }>(sql`select extract(epoch from claimed_until - now())::float8 as seconds from quota_notifications where id = ${id}`);
    expect(held!.seconds).toBeGreaterThan(0.5);
    expect(held!.seconds).toBeLessThanOrEqual(1);
    // The worker died: time passes beyond the claim.
    await t.rows(sql`update quota_notifications set claimed_until = now() - interval '1 ms' where id = ${id}`);
    const second = await claimNotifications(t.db, { visibilitySeconds: 1 });
    expect(second.map((c) => [c.id, c.attempts])).toEqual([[id, 2]]);
    expect(second[0]!.claimId).not.toBe(first[0]!.claimId);
    const [backoff] = await t.rows<{ seconds: number }>(sql`select extract(epoch from claimed_until - now())::float8 as seconds from quota_notifications where id = ${id}`);
    expect(backoff!.seconds).toBeGreaterThan(1.5);
    // The first worker's late ack does not count: the row is the second's.
    expect(await ackNotification(t.db, { id: id!, claimId: first[0]!.claimId })).toBe(false);
    // A failure keeps the error and ends the claim; the row comes back after its backoff.
    expect(await failNotification(t.db, { id: id!, claimId: second[0]!.claimId, error: 'smtp: 451 try later' })).toBe(true);
    expect(await claimNotifications(t.db)).toEqual([]);
    for (let attempt = 3; attempt <= limits.notificationMaxAttempts; attempt += 1) {
      await t.rows(sql`update quota_notifications set claimed_until = now() - interval '1 ms' where id = ${id}`);
      const again = await claimNotifications(t.db, { visibilitySeconds: 1 });
      expect(again.map((c) => c.attempts)).toEqual([attempt]);
    }
    const [capped] = await t.rows<{ seconds: number }>(sql`select extract(epoch from claimed_until - now())::float8 as seconds from quota_notifications where id = ${id}`);
    expect(capped!.seconds).toBeCloseTo(2 ** (limits.notificationMaxAttempts - 1), -1);
    await t.rows(sql`update quota_notifications set claimed_until = now() - interval '1 ms' where id = ${id}`);
    expect(await claimNotifications(t.db)).toEqual([]);
    const [row] = await t.rows<{ gave_up: boolean; error: string; delivered: boolean }>(sql`select gave_up_at is not null as gave_up,
      last_error as error, delivered_at is not null as delivered from quota_notifications where id = ${id}`);
    expect(row).toEqual({ gave_up: true, error: 'smtp: 451 try later', delivered: false });
  });

  it('a failure on the last attempt gives the row up at once; a failure with a stale claim changes nothing', async () => {
    await emptyOutbox();
    const [id] = await notificationsFor(1);
    await t.rows(sql`update quota_notifications set attempts = ${limits.notificationMaxAttempts - 1} where id = ${id}`);
    const [last] = await claimNotifications(t.db);
    expect(last).toMatchObject({ id, attempts: limits.notificationMaxAttempts });
    expect(await failNotification(t.db, { id: id!, claimId: '00000000-0000-4000-8000-000000000000', error: 'stale' })).toBe(false);
    expect(await failNotification(t.db, { id: id!, claimId: last!.claimId, error: 'mailbox full' })).toBe(true);
    const [row] = await t.rows<{ gave_up: boolean; error: string }>(sql`select gave_up_at is not null as gave_up, last_error as error
      from quota_notifications where id = ${id}`);
    expect(row).toEqual({ gave_up: true, error: 'mailbox full' });
    await t.rows(sql`update quota_notifications set claimed_until = now() - interval '1 ms' where id = ${id}`);
    expect(await claimNotifications(t.db)).toEqual([]);
    expect(await ackNotification(t.db, { id: id!, claimId: last!.claimId })).toBe(false);
  });

  it.skipIf(target().kind === 'pglite')(`two workers claiming at once never get the same row (${needsServer})`, async () => {
    await emptyOutbox();
    const ids = await notificationsFor(30);
    const pool = t.connect(4);
    // Connections opened first, so that neither worker starts while the
    // other is still connecting; each gives the other a turn between claims.
    await Promise.all([0, 1, 2, 3].map(() => queryRows(pool.db, sql`select pg_sleep(0.05)`)));
    const seen: number[][] = [[], []];
    await Promise.all(
      [0, 1].map(async (w) => {
        for (;;) {
          const batch = await claimNotifications(pool.db, { batch: 3 });
          if (batch.length === 0) return;
          seen[w]!.push(...batch.map((c) => c.id));
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      }),
    );
    const all = [...seen[0]!, ...seen[1]!].sort((x, y) => x - y);
    expect(all).toEqual([...ids].sort((x, y) => x - y));
    expect(seen[0]!.length).toBeGreaterThan(0);
    expect(seen[1]!.length).toBeGreaterThan(0);
  });

  it('runNotificationWorker delivers what it claims, records what its sender throws, and stops when asked', async () => {
    await emptyOutbox();
    const ids = await notificationsFor(3);
    const sent: ClaimedNotification[] = [];
    const controller = new AbortController();
    const stats = await runNotificationWorker(
      t.db,
      async (notification) => {
        if (notification.id === ids[1]) throw new Error('webhook returned 500');
        sent.push(notification);
        if (sent.length === 2) controller.abort();
      },
      { batch: 10, signal: controller.signal, idleMs: 10 },
    );
    expect(stats).toEqual({ delivered: 2, failed: 1, lostClaims: 0 });
    expect(sent.map((s) => s.id)).toEqual([ids[0], ids[2]]);
    const rows = await t.rows<{ id: number; delivered: boolean; error: string | null }>(sql`select id, delivered_at is not null as delivered,
      last_error as error from quota_notifications where id in (${sql.join(ids.map((i) => sql`${i}`), sql`, `)}) order by id`);
    expect(rows.map((r) => [Number(r.id), r.delivered, r.error])).toEqual([
      [ids[0], true, null],
      [ids[1], false, 'Error: webhook returned 500'],
      [ids[2], true, null],
    ]);
  });

  it.skipIf(target().kind === 'pglite')(`an insert wakes a listening worker at once (${needsServer})`, async () => {
    await emptyOutbox();
    const listener = postgres(t.url!, { max: 1, onnotice: () => {} });
    const payloads: string[] = [];
    const heard = new Promise<void>((resolve) => {
      void listener.listen(notificationChannel, (payload) => {
        payloads.push(payload);
        resolve();
      });
    });
    await new Promise((r) => setTimeout(r, 100));
    const [id] = await notificationsFor(1);
    await heard;
    expect(payloads).toEqual([String(id)]);

    // The worker sleeps an hour when idle, yet delivers within moments of the insert.
    await emptyOutbox();
    const controller = new AbortController();
    const delivered: number[] = [];
    const worker = runNotificationWorker(
      t.db,
      async (notification) => {
        delivered.push(notification.id);
        controller.abort();
      },
      { signal: controller.signal, idleMs: 3_600_000, listen: (onWake) => listener.listen(notificationChannel, onWake).then((l) => l.unlisten) },
    );
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    const [next] = await notificationsFor(1);
    await worker;
    expect(delivered).toEqual([next]);
    expect(Date.now() - started).toBeLessThan(10_000);
    await listener.end();
  });

  it('retention removes what was delivered or given up long enough ago, and what was never delivered only when asked', async () => {
    await emptyOutbox();
    const [old, recent, undelivered] = await notificationsFor(3);
    await t.rows(sql`update quota_notifications set delivered_at = now() - interval '40 days' where id = ${old}`);
    await t.rows(sql`update quota_notifications set delivered_at = now() - interval '2 days' where id = ${recent}`);
    await t.rows(sql`update quota_notifications set delivered_at = null, created_at = now() - interval '100 days' where id = ${undelivered}`);
    expect(await purgeNotifications(t.db, { olderThanDays: 30 })).toBeGreaterThanOrEqual(1);
    const left = async () =>
      (await t.rows<{ id: number }>(sql`select id from quota_notifications where id in (${old}, ${recent}, ${undelivered}) order by id`)).map((r) => Number(r.id));
    expect(await left()).toEqual([recent, undelivered]);
    await purgeNotifications(t.db, { olderThanDays: 30, undeliveredOlderThanDays: 90 });
    expect(await left()).toEqual([recent]);
  });

  it('bad input is refused before the database, naming the field; the database refuses it too', async () => {
    const cases: [() => Promise<unknown>, string][] = [
      [() => claimNotifications(t.db, { batch: 0 }), 'batch'],
      [() => claimNotifications(t.db, { batch: limits.notificationClaimBatchMax + 1 }), 'batch'],
      [() => claimNotifications(t.db, { visibilitySeconds: 0 }), 'visibility_seconds'],
      [() => ackNotification(t.db, { id: 1, claimId: 'nope' }), 'claim_id'],
      [() => purgeNotifications(t.db, { olderThanDays: 0 }), 'older_than_days'],
    ];
    for (const [call, field] of cases) {
      const e = await call().then(() => null, (error: unknown) => error);
      expect(e, field).toBeInstanceOf(ValidationError);
      expect((e as ValidationError).field).toBe(field);
    }
    for (const [statement, field] of [
      [sql`select * from claim_notifications(0)`, 'batch'],
      [sql`select * from claim_notifications(10, interval '2 hours')`, 'visibility'],
      [sql`select purge_notifications(interval '1 hour')`, 'older_than'],
    ] as const) {
      const e = pgErrorOf(await t.rows(statement).then(() => null, (error: unknown) => error));
      expect(e.code).toBe('22023');
      expect(e.message.startsWith(`${field}: `)).toBe(true);
    }
  });
});
