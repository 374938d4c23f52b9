// The event log by month and the one maintenance entry point: the layout a
// migrated database has, what reaches a partition (nothing, from the API),
// strays in the default partition, retention of whole months with the daily
// totals kept, the purges of run_maintenance(), overlapping runs, and the
// migration of a deployed database whose unpartitioned log holds rows.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asService, withClaims } from '../src/auth/withClaims.js';
import { queryRows } from '../src/db.js';
import { pgErrorOf } from '../src/errors.js';
import { signUpLocal } from '../src/local/auth.js';
import { runMaintenance } from '../src/queries/maintenance.js';
import { reserveQuota } from '../src/queries/quotas.js';
import { startSession } from '../src/queries/sessions.js';
import { recordUsage } from '../src/queries/usage.js';
import { limits } from '../src/schema/limits.js';
import { databaseMigratedTo, freshDatabase, needsServer, target, type TestDatabase } from './support/database.js';

let t: TestDatabase;
let n = 0;
const key = () => `part-${++n}`;
const usage = { provider: 'ollama', model: 'llama3', agentMode: 'debug' as const, inputTokens: 100, outputTokens: 20 };
const newUser = () => signUpLocal(t.db, { email: `part-${++n}@example.com` });

beforeAll(async () => {
  t = await freshDatabase();
});
afterAll(() => t?.close());

/** The partitions of ai_usage_events: name, bounds as Postgres prints them. */
async function partitions(): Promise<{ name: string; bound: string }[]> {
  return t.rows(sql`select c.oid::regclass::text as name, pg_get_expr(c.relpartbound, c.oid) as bound
    from pg_inherits i join pg_class c on c.oid = i.inhrelid
    where i.inhparent = 'public.ai_usage_events'::regclass order by 1`);
}

const monthName = (d: Date) => `partitions.ai_usage_events_${d.getUTCFullYear()}_${String(d.getUTCMonth() + 1).padStart(2, '0')}`;
const monthStart = (offset: number, from = new Date()) => new Date(Date.UTC(from.getUTCFullYear(), from.getUTCMonth() + offset, 1));

describe('the layout of a migrated database', () => {
  it('ai_usage_events is partitioned by range of occurred_at, its partitions in schema partitions', async () => {
    const [parent] = await t.rows<{ kind: string; key: string }>(sql`select c.relkind::text as kind, pg_get_partkeydef(c.oid) as key
      from pg_class c where c.oid = 'public.ai_usage_events'::regclass`);
    expect(parent).toEqual({ kind: 'p', key: 'RANGE (occurred_at)' });
    const names = (await partitions()).map((p) => p.name);
    expect(names).toContain('partitions.ai_usage_events_default');
    for (const name of names) expect(name).toMatch(/^partitions\.ai_usage_events_(default|\d{4}_\d{2})$/);
  });

  it('every month a request may be recorded in has its partition, and the months ahead too', async () => {
    const names = new Set((await partitions()).map((p) => p.name));
    const oldest = monthStart(0, new Date(Date.now() - limits.idempotencyWindowDays * 86_400_000));
    for (let m = new Date(oldest); m <= monthStart(limits.usagePartitionsAhead); m = monthStart(1, m)) {
      expect(names, monthName(m)).toContain(monthName(m));
    }
  });

  it('no API role reaches a partition: no USAGE on the schema, no privilege on the tables, row security on', async () => {
    const rows = await t.rows<{ name: string; rls: boolean; acl: string | null }>(sql`select c.oid::regclass::text as name,
        c.relrowsecurity as rls, c.relacl::text as acl
      from pg_class c join pg_namespace s on s.oid = c.relnamespace where s.nspname = 'partitions' and c.relkind = 'r'`);
    expect(rows.length).toBeGreaterThan(3);
    for (const row of rows) {
      expect(row.rls, row.name).toBe(true);
      expect(row.acl ?? '', row.name).not.toMatch(/anon|authenticated|service_role/);
    }
    const [usage] = await t.rows<{ anon: boolean; authenticated: boolean; service: boolean }>(sql`select
      has_schema_privilege('anon', 'partitions', 'USAGE') as anon,
      has_schema_privilege('authenticated', 'partitions', 'USAGE') as authenticated,
      has_schema_privilege('service_role', 'partitions', 'USAGE') as service`);
    expect(usage).toEqual({ anon: false, authenticated: false, service: false });
  });

  it('a signed-in user reading a partition directly is refused; through the log, RLS shows only their rows', async () => {
    const user = await newUser();
    const other = await newUser();
    await asService(t.db, (tx) => recordUsage(tx, { ...usage, userId: user, idempotencyKey: key() }));
    await asService(t.db, (tx) => recordUsage(tx, { ...usage, userId: other, idempotencyKey: key() }));
    const partition = monthName(new Date());
    for (const role of ['authenticated', 'anon', 'service_role'] as const) {
      const attempt = await withClaims(t.db, { role, sub: role === 'authenticated' ? user : undefined }, (tx) =>
        queryRows(tx, sql.raw(`select count(*) from ${partition}`)),
      ).catch((e: unknown) => pgErrorOf(e));
      expect(attempt, role).toMatchObject({ code: '42501' });
    }
    const seen = await withClaims(t.db, { role: 'authenticated', sub: user }, (tx) =>
      queryRows<{ user_id: string }>(tx, sql`select distinct user_id from ai_usage_events`),
    );
    expect(seen.map((r) => r.user_id)).toEqual([user]);
  });

  it('a request lands in the partition of its month, a backdated one in its own month', async () => {
    const user = await newUser();
    const now = await asService(t.db, (tx) => recordUsage(tx, { ...usage, userId: user, idempotencyKey: key() }));
    const backdated = new Date(Date.now() - 6 * 86_400_000);
    const old = await asService(t.db, (tx) => recordUsage(tx, { ...usage, userId: user, idempotencyKey: key(), occurredAt: backdated }));
    const rows = await t.rows<{ id: number; part: string }>(sql`select id::int as id, tableoid::regclass::text as part
      from ai_usage_events where user_id = ${user} order by id`);
    expect(rows).toEqual([
      { id: now.eventId, part: monthName(new Date()) },
      { id: old.eventId, part: monthName(backdated) },
    ]);
  });
});

describe('run_maintenance()', () => {
  it('makes nothing twice: a second run finds every partition made and every purge done', async () => {
    await runMaintenance(t.db);
    const again = await runMaintenance(t.db);
    expect(again).toMatchObject({ skipped: false, partitionsMade: 0, defaultPartitionRows: 0, partitionsDropped: [] });
  });

  it('only service_role (and the owner) may run it', async () => {
    const user = await newUser();
    for (const claims of [{ role: 'anon' as const }, { role: 'authenticated' as const, sub: user }]) {
      const attempt = await withClaims(t.db, claims, (tx) => runMaintenance(tx)).catch((e: unknown) => pgErrorOf(e));
      expect(attempt, claims.role).toMatchObject({ code: '42501' });
    }
    expect((await asService(t.db, (tx) => runMaintenance(tx))).skipped).toBe(false);
  });

  it('moves strays out of the default partition into a month of their own, ids, times and keys unchanged', async () => {
    const user = await newUser();
    // A month far ahead, which nobody made: the row goes to the default partition.
    const far = monthStart(limits.usagePartitionsAhead + 3);
    await t.rows(sql`insert into ai_usage_events (user_id, idempotency_key, provider, model, agent_mode, cost_usd, cost_source, status, occurred_at)
      values (${user}, 'stray', 'ollama', 'llama3', 'debug', 0, 'free_local', 'success', ${far.toISOString()}::timestamptz + interval '2 days')`);
    const [before] = await t.rows<{ id: number; part: string }>(sql`select id::int as id, tableoid::regclass::text as part
      from ai_usage_events where user_id = ${user}`);
    expect(before!.part).toBe('partitions.ai_usage_events_default');
    await t.rows(sql`insert into ai_usage_event_keys (user_id, idempotency_key, event_id, occurred_at)
      select user_id, idempotency_key, id, occurred_at from ai_usage_events where user_id = ${user}`);

    const run = await runMaintenance(t.db);
    expect(run.partitionsMade).toBeGreaterThanOrEqual(1);
    expect(run.defaultPartitionRows).toBe(0);
    const [after] = await t.rows<{ id: number; part: string }>(sql`select e.id::int as id, e.tableoid::regclass::text as part
      from ai_usage_event_keys k join ai_usage_events e on e.id = k.event_id and e.occurred_at = k.occurred_at
      where k.user_id = ${user}`);
    expect(after).toEqual({ id: before!.id, part: monthName(far) });
    const [left] = await t.rows<{ n: number }>(sql`select count(*)::int as n from partitions.ai_usage_events_default`);
    expect(left!.n).toBe(0);
  });

  it('drops whole months past the retention; the daily totals stay, and younger months are untouched', async () => {
    const user = await newUser();
    const old = monthStart(-5);
    await t.rows(sql`select private.create_usage_partition(${old.toISOString()}::timestamptz)`);
    await t.rows(sql`insert into ai_usage_events (user_id, idempotency_key, provider, model, agent_mode, input_tokens, cost_usd, cost_source, status, occurred_at)
      select ${user}, 'old-' || g, 'ollama', 'llama3', 'debug', 10, 0, 'free_local', 'success', ${old.toISOString()}::timestamptz + g * interval '1 hour'
      from generate_series(1, 50) g`);
    await t.rows(sql`insert into ai_usage_daily (user_id, date, provider, model, agent_mode, request_count, success_count, input_tokens, total_tokens)
      values (${user}, ${old.toISOString()}::timestamptz, 'ollama', 'llama3', 'debug', 50, 50, 500, 500)`);
    const recent = await asService(t.db, (tx) => recordUsage(tx, { ...usage, userId: user, idempotencyKey: key() }));

    // Without a retention setting nothing goes.
    expect((await runMaintenance(t.db)).partitionsDropped).toEqual([]);
    const dropped = await t.db.transaction(async (tx) => {
      await tx.execute(sql`set local witchcraft.usage_retention_days = '90'`);
      return runMaintenance(tx);
    });
    expect(dropped.partitionsDropped).toContain(monthName(old));
    expect(dropped.partitionsDropped.every((p) => p < monthName(monthStart(-2)))).toBe(true);
    const [left] = await t.rows<{ events: number; daily: number; recent: number }>(sql`select
      (select count(*)::int from ai_usage_events where user_id = ${user} and occurred_at < ${monthStart(-4).toISOString()}::timestamptz) as events,
      (select sum(request_count)::int from ai_usage_daily where user_id = ${user} and date = ${old.toISOString()}::timestamptz) as daily,
      (select count(*)::int from ai_usage_events where id = ${recent.eventId}) as recent`);
    expect(left).toEqual({ events: 0, daily: 50, recent: 1 });
  });

  it('refuses a retention shorter than the idempotency window and the backdating, naming the setting', async () => {
    const attempt = await t.db
      .transaction(async (tx) => {
        await tx.execute(sql`set local witchcraft.usage_retention_days = '59'`);
        return runMaintenance(tx);
      })
      .catch((e: unknown) => pgErrorOf(e));
    expect(attempt).toMatchObject({ code: '22023', message: expect.stringMatching(/^witchcraft\.usage_retention_days: must be a whole number of at least 60/) });
    const direct = await t.rows(sql`select private.drop_usage_partitions(interval '30 days')`).catch((e: unknown) => pgErrorOf(e));
    expect(direct).toMatchObject({ code: '22023', message: expect.stringMatching(/^older_than: must be at least 60 days/) });
    const nonsense = await t.db
      .transaction(async (tx) => {
        await tx.execute(sql`set local witchcraft.session_idle_minutes = 'soon'`);
        return runMaintenance(tx);
      })
      .catch((e: unknown) => pgErrorOf(e));
    expect(nonsense).toMatchObject({ code: '22023', message: expect.stringMatching(/^witchcraft\.session_idle_minutes: /) });
  });

  it('purges resolved reservations past their retention without touching the events that name them', async () => {
    const user = await newUser();
    const hold = await reserveQuota(t.db, { userId: user, idempotencyKey: key(), estimatedTokens: 100 });
    if (!hold.granted) throw new Error('not granted');
    const event = await asService(t.db, (tx) => recordUsage(tx, { ...usage, userId: user, idempotencyKey: key(), reservationId: hold.reservationId }));
    const active = await reserveQuota(t.db, { userId: user, idempotencyKey: key(), estimatedTokens: 100 });
    if (!active.granted) throw new Error('not granted');
    // Both made 40 days ago (ids are time-ordered, so the id says so too); the first settled then.
    await t.rows(sql`update quota_reservations set
        id = overlay(private.uuid_v7_floor(now() - interval '40 days')::text placing substr(md5(id::text), 1, 12) from 25)::uuid,
        created_at = now() - interval '40 days',
        expires_at = case when status = 'active' then now() + interval '1 hour' else now() - interval '40 days' + interval '1 minute' end,
        resolved_at = case when status = 'active' then null else now() - interval '40 days' + interval '1 second' end
      where id in (${hold.reservationId}, ${active.reservationId})`);
    const run = await runMaintenance(t.db);
    expect(run.reservationsPurged).toBeGreaterThanOrEqual(1);
    const left = await t.rows<{ status: string }>(sql`select status::text from quota_reservations where user_id = ${user}`);
    expect(left).toEqual([{ status: 'active' }]);
    const [named] = await t.rows<{ reservation_id: string | null }>(sql`select reservation_id from ai_usage_events where id = ${event.eventId}`);
    expect(named!.reservation_id).not.toBeNull();
  });

  it('purges rate-limit states that say no more than a missing row, and keeps live ones', async () => {
    const stale = await newUser();
    const live = await newUser();
    await t.rows(sql`insert into rate_limit_state (subject_id, requests_at, tokens_at) values
      (${stale}, now() - interval '5 minutes', now() - interval '2 minutes'),
      (${live}, now() + interval '10 seconds', now() - interval '5 minutes')`);
    await runMaintenance(t.db);
    const left = await t.rows<{ subject_id: string }>(sql`select subject_id from rate_limit_state where subject_id in (${stale}, ${live})`);
    expect(left).toEqual([{ subject_id: live }]);
  });

  it('closes sessions idle past witchcraft.session_idle_minutes and expires holds past their expiry', async () => {
    const user = await newUser();
    const idle = await withClaims(t.db, { role: 'authenticated', sub: user }, (tx) => startSession(tx, { userId: user, agentMode: 'debug' }));
    const busy = await withClaims(t.db, { role: 'authenticated', sub: user }, (tx) => startSession(tx, { userId: user, agentMode: 'debug' }));
    await t.rows(sql`update agent_sessions set started_at = now() - interval '3 hours', last_activity_at = now() - interval '2 hours' where id = ${idle.id}`);
    const hold = await reserveQuota(t.db, { userId: user, idempotencyKey: key(), estimatedTokens: 1, ttlSeconds: 60 });
    if (!hold.granted) throw new Error('not granted');
    await t.rows(sql`update quota_reservations set created_at = now() - interval '2 minutes', expires_at = now() - interval '1 minute' where id = ${hold.reservationId}`);
    const run = await runMaintenance(t.db);
    expect(run.sessionsClosed).toBeGreaterThanOrEqual(1);
    expect(run.reservationsExpired).toBeGreaterThanOrEqual(1);
    const sessions = await t.rows<{ id: string; status: string }>(sql`select id, status::text from agent_sessions where user_id = ${user} order by started_at`);
    expect(sessions).toEqual([
      { id: idle.id, status: 'abandoned' },
      { id: busy.id, status: 'active' },
    ]);
    const [expired] = await t.rows<{ status: string }>(sql`select status::text from quota_reservations where id = ${hold.reservationId}`);
    expect(expired!.status).toBe('expired');
  });

  it.skipIf(target().kind === 'pglite')(`overlapping runs: the second returns at once, skipped; four at once all end well (${needsServer})`, async () => {
    const pool = t.connect(4);
    try {
      const skipped = await pool.db.transaction(async (tx) => {
        await tx.execute(sql`select pg_advisory_xact_lock(hashtextextended('witchcraft.run_maintenance', 0))`);
        return runMaintenance(t.db);
      });
      expect(skipped.skipped).toBe(true);
      const runs = await Promise.all(Array.from({ length: 4 }, () => runMaintenance(pool.db)));
      expect(runs.filter((r) => !r.skipped).length).toBeGreaterThanOrEqual(1);
      expect((await runMaintenance(t.db)).partitionsMade).toBe(0);
    } finally {
      await pool.close();
    }
  });
});

describe('a deployed database whose log is not partitioned yet', () => {
  it('migrates with its rows: none lost, ids kept, old keys still duplicates, new rows in new months', async () => {
    const deployed = await databaseMigratedTo('0030_quota_period_bounds');
    try {
      const user = '0b6f6a3e-7c1d-4e2a-9f10-2a3b4c5d6e7f';
      await deployed.query(`insert into auth.users (instance_id, id, aud, role, email, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
        values ('00000000-0000-0000-0000-000000000000', $1, 'authenticated', 'authenticated', 'deployed@example.com', '{}', '{}', now(), now())`, [user]);
      const record = (k: string, daysAgo: number) =>
        deployed.query<{ event_id: string; duplicate: boolean }>(`select event_id::text, duplicate from public.record_usage(
          p_user_id => $1, p_idempotency_key => $2, p_provider => 'ollama', p_model => 'llama3', p_agent_mode => 'debug',
          p_input_tokens => 100, p_output_tokens => 10, p_occurred_at => now() - make_interval(days => $3))`, [user, k, daysAgo]);
      for (let i = 0; i < 40; i++) await record(`before-${i}`, i % 7);
      // Some history from long ago, as a deployed log has it.
      await deployed.query(`insert into ai_usage_events (user_id, idempotency_key, provider, model, agent_mode, input_tokens, cost_usd, cost_source, status, occurred_at, created_at)
        select $1, 'ancient-' || g, 'ollama', 'llama3', 'debug', 5, 0, 'free_local', 'success', now() - interval '300 days' + g * interval '1 day', now() - interval '300 days' + g * interval '1 day'
        from generate_series(1, 30) g`, [user]);
      const snapshot = () =>
        deployed.query<{ n: string; ids: string; tokens: string; daily: string }>(`select count(*)::text as n, sum(id)::text as ids,
          sum(total_tokens)::text as tokens, (select sum(total_tokens)::text from ai_usage_daily) as daily from ai_usage_events`);
      const [before] = await snapshot();
      const [maxRow] = await deployed.query<{ max_id: string }>(`select max(id)::text as max_id from ai_usage_events`);
      const maxBefore = maxRow!.max_id;

      const applied = await deployed.migrateForward();
      expect(applied[0]).toBe('0031_event_log_partitions');

      expect((await snapshot())[0]).toEqual(before);
      const parts = await deployed.query<{ name: string; bound: string }>(`select c.oid::regclass::text as name, pg_get_expr(c.relpartbound, c.oid) as bound
        from pg_inherits i join pg_class c on c.oid = i.inhrelid where i.inhparent = 'public.ai_usage_events'::regclass order by 1`);
      const legacy = parts.find((p) => p.name === 'partitions.ai_usage_events_legacy');
      expect(legacy?.bound).toMatch(/^FOR VALUES FROM \(MINVALUE\) TO \('/);
      expect(parts.map((p) => p.name)).toContain('partitions.ai_usage_events_default');
      expect(parts.map((p) => p.name)).toContain(monthName(monthStart(1)));
      const [legacyRows] = await deployed.query<{ n: string }>(`select count(*)::text as n from partitions.ai_usage_events_legacy`);
      expect(legacyRows!.n).toBe(before!.n);
      // The keys of the window came along; the ancient ones are past it.
      const [keys] = await deployed.query<{ n: string }>(`select count(*)::text as n from ai_usage_event_keys where user_id = $1`, [user]);
      expect(keys!.n).toBe('40');

      // A retry of a request recorded before the migration is still a duplicate.
      const [retry] = await record('before-3', 0);
      expect(retry!.duplicate).toBe(true);
      const [fresh] = await record('after-1', 0);
      expect(fresh!.duplicate).toBe(false);
      expect(BigInt(fresh!.event_id)).toBeGreaterThan(BigInt(maxBefore));
      const [after] = await snapshot();
      expect(Number(after!.n)).toBe(Number(before!.n) + 1);
      expect(Number(after!.daily)).toBe(Number(before!.daily) + 110);

      // Maintenance runs on it; retention later drops the legacy partition as a whole.
      const [run] = await deployed.query<{ r: Record<string, unknown> }>(`select public.run_maintenance() as r`);
      expect(run!.r).toMatchObject({ default_partition_rows: 0 });
      const [unchanged] = await deployed.query<{ n: string }>(`select count(*)::text as n from partitions.ai_usage_events_legacy`);
      expect(Number(unchanged!.n)).toBe(Number(before!.n) + 1);
    } finally {
      await deployed.close();
    }
  });
});
