// The operations the benchmark measures, and their baselines, as SQL.
import postgres from 'postgres';
import { functionCallSql } from '../src/rpc.js';
import type { Sql } from './runner.js';
import { quantile } from './stats.js';

// Idempotency keys are unique across the whole run: a repeated key would be a
// cheap duplicate and flatter the figures.
let keySequence = 0;
const nextKey = (prefix: string) => `${prefix}-${++keySequence}`;

/**
 * Installs `bench.time_query`: runs a query (taking a user id as $1) over many
 * users inside the server, optionally as an API role with that user's JWT
 * claims, and returns the median and p95 of its execution time and of its
 * planning time, as EXPLAIN ANALYZE reports them. Execution is what a service
 * with prepared statements pays per call; planning is reported apart.
 */
export async function installTimer(sql: Sql): Promise<void> {
  await sql.unsafe(`create schema if not exists bench`);
  await sql.unsafe(`grant usage on schema bench to authenticated, service_role`);
  await sql.unsafe(`create or replace function bench.time_query(q text, users uuid[], reps int, as_role text)
    returns table (p50 float8, p95 float8, plan_p50 float8)
    language plpgsql as $$
    declare
      plan json;
      exec_ms float8[] := '{}';
      plan_ms float8[] := '{}';
      who uuid;
    begin
      for i in 1..reps loop
        who := users[1 + (i % array_length(users, 1))];
        if as_role is not null then
          perform set_config('role', as_role, true);
          perform set_config('request.jwt.claims', json_build_object('sub', who, 'role', as_role)::text, true);
        end if;
        execute 'explain (analyze, timing off, summary on, format json) ' || q into plan using who;
        exec_ms := exec_ms || (plan -> 0 ->> 'Execution Time')::float8;
        plan_ms := plan_ms || (plan -> 0 ->> 'Planning Time')::float8;
        if as_role is not null then
          perform set_config('role', 'postgres', true);
        end if;
      end loop;
      return query
        select (select percentile_cont(0.5) within group (order by s) from unnest(exec_ms) s),
               (select percentile_cont(0.95) within group (order by s) from unnest(exec_ms) s),
               (select percentile_cont(0.5) within group (order by s) from unnest(plan_ms) s);
    end $$`);
}

/** Median and p95 execution time (ms) of `q` (the user as $1) inside the server, and median planning time. */
export async function timeServerSide(sql: Sql, q: string, users: string[], reps: number, asRole?: 'authenticated' | 'service_role') {
  const [row] = await sql.begin(async (tx) =>
    tx.unsafe<{ p50: number; p95: number; plan_p50: number }[]>(
      `select p50, p95, plan_p50 from bench.time_query($1, $2::uuid[], $3, $4)`,
      [q, users, reps, asRole ?? null],
    ),
  );
  return { p50: Number(row!.p50), p95: Number(row!.p95), planP50: Number(row!.plan_p50) };
}

/**
 * The same measurement on two databases, alternating in rounds so that
 * whatever else the machine is doing weighs on both alike. Each round opens
 * fresh sessions, as a service's pool would have (the sessions that loaded
 * the data are left out). Returns the median of each side's round medians.
 */
export async function timePaired(
  first: { url: string; users: string[] },
  second: { url: string; users: string[] },
  measure: (sql: Sql, users: string[], reps: number) => Promise<{ p50: number; p95: number }>,
  reps: number,
  rounds = 10,
) {
  const results: [number[], number[], number[], number[]] = [[], [], [], []];
  const per = Math.max(20, Math.ceil(reps / rounds));
  for (let round = 0; round < rounds; round++) {
    for (const [side, target] of [first, second].entries()) {
      const sql = postgres(target.url, { max: 1, onnotice: () => {} });
      try {
        const r = await measure(sql, target.users, per);
        results[side]!.push(r.p50);
        results[side + 2]!.push(r.p95);
      } finally {
        await sql.end();
      }
    }
  }
  const mid = (v: number[]) => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)]!;
  return {
    first: { p50: mid(results[0]), p95: mid(results[2]) },
    second: { p50: mid(results[1]), p95: mid(results[3]) },
  };
}

/** EXPLAIN ANALYZE of `q` for one user, as the given role. */
export async function explain(sql: Sql, q: string, user: string, role: 'authenticated' | 'service_role'): Promise<string> {
  return sql.begin(async (tx) => {
    await tx.unsafe(`select set_config('role', $1, true), set_config('request.jwt.claims', $2, true)`, [
      role,
      JSON.stringify({ sub: user, role }),
    ]);
    const rows = await tx.unsafe<{ 'QUERY PLAN': string }[]>(`explain (analyze, costs off, summary off) ${q}`, [user]);
    return rows.map((r) => r['QUERY PLAN']).join('\n');
  });
}

/** One active session per entry of `users` (the same user may appear several times). */
export async function openSessions(sql: Sql, users: string[]): Promise<string[]> {
  const rows = await sql.unsafe<{ id: string }[]>(
    `insert into agent_sessions (user_id, agent_mode, title, model)
     select u, 'implement', 'bench', 'claude-sonnet-4' from unnest($1::uuid[]) u
     returning id`,
    [users],
  );
  return rows.map((r) => r.id);
}

// ---- baselines ---------------------------------------------------------------

/**
 * The floor for recording: one plain single-row insert of the same event row
 * record_usage writes (same columns, including session, reservation and price
 * references, so the same indexes and foreign keys are maintained).
 */
export function bareUsageInsert(sql: Sql, user: string, i: number, refs: { session: string; reservation: string; price: number }) {
  return sql.unsafe(
    `insert into ai_usage_events
       (user_id, session_id, reservation_id, price_id, idempotency_key, provider, model, agent_mode,
        input_tokens, output_tokens, cost_usd, cost_source, status, latency_ms)
     values ($1, $2, $3, $4, $5, 'anthropic', 'claude-sonnet-4', 'implement', 1200, 300, 0.0066, 'price_table', 'success', 900)`,
    [user, refs.session, refs.reservation, refs.price, nextKey('bare')],
  );
}

/** The price record_usage will pick for the benchmark's model now. */
export async function currentPriceId(sql: Sql): Promise<number> {
  const [row] = await sql.unsafe<{ id: string }[]>(
    `select id from model_prices where provider = 'anthropic' and model = 'claude-sonnet-4' and effective_from <= now()
     order by effective_from desc limit 1`,
  );
  return Number(row!.id);
}

/**
 * Requests as Supabase's API (PostgREST) runs them: a transaction with role
 * and JWT claims set, then the query; the two sides alternate call by call
 * and share two connections in turn. Client-side latency, median and p95.
 *
 * `prepared` (the judged figure) uses named prepared statements, as
 * PostgREST and postgres.js's tagged templates do: each statement is planned
 * once per connection. Without them every request is parsed and planned
 * again, and the policy's `(select auth.uid())` adds about 15 µs of planning
 * (an inlined SQL function and one more sub-plan); that figure is reported
 * beside.
 */
export async function timePerRequestPaired(
  url: string,
  users: string[],
  reps: number,
  a: { q: string; role: 'authenticated' | 'service_role' },
  b: { q: string; role: 'authenticated' | 'service_role' },
  prepared = true,
) {
  // Two connections, and each side uses both in turn, so that whatever makes
  // one connection slower than the other here (which core its backend and
  // the client share) weighs on both sides alike. The sides' statements are
  // labelled so that each has its own prepared statement on each connection
  // (a plan made for one role is planned again for the other).
  const clients = [postgres(url, { max: 1, onnotice: () => {} }), postgres(url, { max: 1, onnotice: () => {} })];
  const sides = [a, b].map((side, n) => ({ ...side, q: `/* side ${n} */ ${side.q}` }));
  const request = (client: Sql, side: { q: string; role: string }, user: string) =>
    client.begin(async (tx) => {
      await tx.unsafe(
        `select set_config('role', $1, true), set_config('request.jwt.claims', $2, true)`,
        [side.role, JSON.stringify({ sub: user, role: side.role })],
        { prepare: prepared },
      );
      await tx.unsafe(side.q, [user], { prepare: prepared });
    });
  try {
    const samples: [number[], number[]] = [[], []];
    for (let i = -20; i < reps; i++) {
      const user = users[Math.abs(i) % users.length]!;
      // Alternate which side goes first and which connection each side uses.
      const order = i % 2 === 0 ? ([0, 1] as const) : ([1, 0] as const);
      for (const side of order) {
        const client = clients[(side + Math.floor(Math.abs(i) / 2)) % 2]!;
        const t0 = performance.now();
        await request(client, sides[side]!, user);
        if (i >= 0) samples[side].push(performance.now() - t0);
      }
    }
    return samples.map((s) => ({ p50Ms: quantile(s, 0.5), p95Ms: quantile(s, 0.95) })) as [
      { p50Ms: number; p95Ms: number },
      { p50Ms: number; p95Ms: number },
    ];
  } finally {
    await Promise.all(clients.map((c) => c.end()));
  }
}

/** The floor for appending: one plain insert into agent_messages with the sequence given by the caller. */
export function bareMessageInsert(sql: Sql, session: string, user: string, i: number) {
  return sql.unsafe(
    `insert into agent_messages (session_id, user_id, seq, role, content, output_tokens, latency_ms)
     values ($1, $2, $3, 'assistant', 'Here is the fix: handle the empty list before indexing.', 40, 800)`,
    [session, user, i + 1],
  );
}

/** Runs `fn` with the user triggers of agent_messages off, so the baseline is a bare insert (foreign keys still checked). */
export async function withMessageTriggersOff<T>(sql: Sql, fn: () => Promise<T>): Promise<T> {
  await sql.unsafe(`alter table agent_messages disable trigger user`);
  try {
    return await fn();
  } finally {
    await sql.unsafe(`alter table agent_messages enable trigger user`);
  }
}

// ---- the measured operations --------------------------------------------------

/** Active reservations made ahead, so each measured record_usage call also settles one. */
export async function prepareReservations(sql: Sql, users: string[], perUser: number, prefix = 'prep'): Promise<string[][]> {
  const out: string[][] = [];
  for (const [w, user] of users.entries()) {
    const rows = await sql.unsafe<{ id: string }[]>(
      `insert into quota_reservations (user_id, idempotency_key, estimated_tokens, estimated_cost_usd, expires_at)
       select $1, $4 || '-' || $2 || '-' || g, 2000, 0.01, now() + interval '1 hour' from generate_series(1, $3::int) g
       returning id`,
      [user, w, perUser, prefix],
    );
    out.push(rows.map((r) => r.id));
  }
  // Vacuumed now, so that autovacuum does not start on these rows in the
  // middle of a measurement.
  await sql.unsafe(`vacuum (analyze) quota_reservations`);
  return out;
}

// The call as the typed queries make it (src/rpc.ts): arguments by name, each
// cast to its declared type; what changes from call to call is sent as a
// parameter and the rest is written into the statement, as the bare insert it
// is measured against does; the token kinds not used here, the cost and the
// message are left to the function's defaults (0 and null).
const recordUsageSql = functionCallSql('record_usage', ['p_user_id', 'p_idempotency_key', 'p_session_id', 'p_reservation_id'], {
  p_provider: 'anthropic',
  p_model: 'claude-sonnet-4',
  p_agent_mode: 'implement',
  p_input_tokens: 1200,
  p_output_tokens: 300,
  p_status: 'success',
  p_latency_ms: 900,
});

/**
 * Everything one recorded request does: idempotency, price, event, daily
 * total, session figures and the settlement of its reservation.
 */
export function recordUsage(sql: Sql, user: string, session: string, reservation: string | null, i: number): Promise<unknown> {
  return sql.unsafe(recordUsageSql, [user, nextKey('rec'), session, reservation]);
}

/** Appending a message the way clients do: the database numbers it and updates the session. */
export function appendMessage(sql: Sql, session: string, user: string, i: number): Promise<unknown> {
  return sql.unsafe(
    `insert into agent_messages (session_id, user_id, role, content, output_tokens, latency_ms)
     values ($1, $2, 'assistant', 'Here is the fix: handle the empty list before indexing.', 40, 800)
     returning seq`,
    [session, user],
  );
}

/** Quota status for one user (the user as $1). */
export const quotaStatusSql = `select * from public.get_quota_status($1)`;

/** Reservation latency inside the server; the reservations made are released afterwards. */
export async function timeReserve(sql: Sql, users: string[], reps: number): Promise<{ p50: number; p95: number }> {
  const result = await timeServerSide(
    sql,
    `select * from public.reserve_quota($1, 'timing-' || gen_random_uuid(), 1000, 0.01, interval '1 hour')`,
    users,
    reps,
  );
  await sql.unsafe(`update quota_reservations set status = 'released', resolved_at = now()
    where idempotency_key like 'timing-%' and status = 'active'`);
  return result;
}

/** The seed's monthly-usage query, unchanged. */
export { monthlyUsageQuery as monthlyUsageSql } from '../src/queries/seedExamples.js';

/** A user's sessions, newest first, relying on RLS alone for the filter ($1 unused). */
export const listSessionsRlsSql = `select id, agent_mode, title, status, started_at, message_count, total_tokens, cost_usd
  from agent_sessions where $1::uuid is not null order by started_at desc limit 20`;

/** The same list with the filter spelled out, for service_role. */
export const listSessionsFilteredSql = `select id, agent_mode, title, status, started_at, message_count, total_tokens, cost_usd
  from agent_sessions where user_id = $1 order by started_at desc limit 20`;

/**
 * Organisations for the bench: a tier with every rule reserve_quota checks
 * (per-minute limits high enough never to refuse, an allow-list, a model
 * cap), and for each user an organisation of their own on it, with a member
 * cap, a grant, and the user's daily history copied into the organisation's
 * totals, so that the organisation's history is as long as the user's.
 * The users move to the tier too, so their own per-minute limits are checked.
 */
export async function prepareOrganisations(sql: Sql, users: string[]): Promise<Map<string, string>> {
  await sql.unsafe(`insert into quota_tiers (id, name, monthly_token_limit, monthly_cost_limit_usd, daily_request_limit,
      requests_per_minute, tokens_per_minute, allowed_models)
    values ('bench-team', 'Bench team', 1000000000000, 1000000, 100000000, 10000000, 100000000000, '{anthropic/*,openai/*}')
    on conflict (id) do nothing`);
  await sql.unsafe(`insert into tier_model_limits (tier_id, model_pattern, monthly_token_limit)
    values ('bench-team', 'anthropic/claude-*', 1000000000000) on conflict do nothing`);
  const orgs = new Map<string, string>();
  for (const user of users) {
    const [org] = await sql.unsafe<{ id: string }[]>(
      `insert into organisations (name, tier_id, member_token_cap, created_by) values ('Bench', 'bench-team', 100000000000, $1) returning id`,
      [user],
    );
    orgs.set(user, org!.id);
  }
  await sql.unsafe(
    `insert into organisation_members (organisation_id, user_id, role)
     select o.id, o.created_by, 'owner' from organisations o where o.created_by = any($1::uuid[]) and o.tier_id = 'bench-team'`,
    [users],
  );
  await sql.unsafe(
    `insert into quota_grants (organisation_id, tokens, reason, expires_at)
     select o.id, 1000000, 'bench', now() + interval '30 days' from organisations o where o.created_by = any($1::uuid[]) and o.tier_id = 'bench-team'`,
    [users],
  );
  await sql.unsafe(
    `insert into organisation_usage_daily (organisation_id, date, provider, model, agent_mode, bucket, request_count, success_count,
       input_tokens, output_tokens, total_tokens, cost_usd)
     select o.id, d.date, d.provider, d.model, d.agent_mode, d.bucket, d.request_count, d.success_count,
       d.input_tokens, d.output_tokens, d.total_tokens, d.cost_usd
     from ai_usage_daily d join organisations o on o.created_by = d.user_id and o.tier_id = 'bench-team'
     where d.user_id = any($1::uuid[])`,
    [users],
  );
  await sql.unsafe(
    `insert into organisation_member_usage_daily (organisation_id, user_id, date, bucket, request_count, total_tokens, cost_usd)
     select o.id, d.user_id, d.date, d.bucket, sum(d.request_count), sum(d.total_tokens), sum(d.cost_usd)
     from ai_usage_daily d join organisations o on o.created_by = d.user_id and o.tier_id = 'bench-team'
     where d.user_id = any($1::uuid[]) group by 1, 2, 3, 4`,
    [users],
  );
  await sql.unsafe(`update user_quotas set tier_id = 'bench-team' where user_id = any($1::uuid[])`, [users]);
  await sql.unsafe('analyze');
  return orgs;
}

/**
 * Reservation latency for an organisation with everything on: the budget,
 * the member's cap, both per-minute limits, the model rules and a grant
 * (the organisation looked up by the user, one index probe).
 */
export async function timeOrganisationReserve(sql: Sql, users: string[], reps: number): Promise<{ p50: number; p95: number }> {
  const result = await timeServerSide(
    sql,
    `select * from public.reserve_quota($1, 'timing-' || gen_random_uuid(), 1000, 0.01, interval '1 hour',
       (select m.organisation_id from organisation_members m where m.user_id = $1 limit 1), 'anthropic', 'claude-sonnet-4')`,
    users,
    reps,
  );
  await sql.unsafe(`update quota_reservations set status = 'released', resolved_at = now()
    where idempotency_key like 'timing-%' and status = 'active'`);
  return result;
}

const recordOrganisationUsageSql = functionCallSql(
  'record_usage',
  ['p_user_id', 'p_idempotency_key', 'p_session_id', 'p_reservation_id', 'p_organisation_id'],
  {
    p_provider: 'anthropic',
    p_model: 'claude-sonnet-4',
    p_agent_mode: 'implement',
    p_input_tokens: 1200,
    p_output_tokens: 300,
    p_status: 'success',
    p_latency_ms: 900,
  },
);

/** The same request as recordUsage, made for an organisation the user is a member of. */
export function recordOrganisationUsage(
  sql: Sql,
  user: string,
  session: string,
  reservation: string | null,
  organisation: string,
): Promise<unknown> {
  return sql.unsafe(recordOrganisationUsageSql, [user, nextKey('org'), session, reservation, organisation]);
}

/** What the log and its neighbours take on disk, in bytes. */
export interface StorageSizes {
  events: number;
  partitions: number;
  eventsHeap: number;
  eventsIndexes: Record<string, number>;
  keys: number;
  keysBytes: number;
  dailyRows: number;
  dailyBytes: number;
}

export async function storageSizes(sql: Sql): Promise<StorageSizes> {
  const [row] = await sql.unsafe<{ events: string; partitions: string; heap: string; keys: string; keys_bytes: string; daily_rows: string; daily_bytes: string }[]>(`
    with parts as (select i.inhrelid from pg_inherits i where i.inhparent = 'public.ai_usage_events'::regclass)
    select (select count(*) from ai_usage_events)::text as events, (select count(*) from parts)::text as partitions,
      (select sum(pg_table_size(inhrelid)) from parts)::text as heap,
      (select count(*) from ai_usage_event_keys)::text as keys, pg_total_relation_size('ai_usage_event_keys')::text as keys_bytes,
      (select count(*) from ai_usage_daily)::text as daily_rows, pg_total_relation_size('ai_usage_daily')::text as daily_bytes`);
  const indexes = await sql.unsafe<{ name: string; bytes: string }[]>(`
    select p.relname as name, sum(pg_relation_size(i.inhrelid))::text as bytes
    from pg_index x join pg_class p on p.oid = x.indexrelid join pg_inherits i on i.inhparent = x.indexrelid
    where x.indrelid = 'public.ai_usage_events'::regclass group by 1 order by 1`);
  return {
    events: Number(row!.events),
    partitions: Number(row!.partitions),
    eventsHeap: Number(row!.heap),
    eventsIndexes: Object.fromEntries(indexes.map((r) => [r.name, Number(r.bytes)])),
    keys: Number(row!.keys),
    keysBytes: Number(row!.keys_bytes),
    dailyRows: Number(row!.daily_rows),
    dailyBytes: Number(row!.daily_bytes),
  };
}

const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;

export function describeSizes(s: StorageSizes): string {
  const indexBytes = Object.values(s.eventsIndexes).reduce((a, b) => a + b, 0);
  const per = (bytes: number) => (s.events > 0 ? (bytes / s.events).toFixed(0) : '-');
  return [
    `${s.events} events in ${s.partitions} partitions: heap ${mib(s.eventsHeap)} (${per(s.eventsHeap)} B/event), indexes ${mib(indexBytes)} (${per(indexBytes)} B/event:`,
    Object.entries(s.eventsIndexes).map(([name, bytes]) => `${name} ${per(bytes)}`).join(', ') + ')',
    `; keys ${s.keys} rows ${mib(s.keysBytes)}; daily totals ${s.dailyRows} rows ${mib(s.dailyBytes)}`,
  ].join(' ');
}

/**
 * Retention of the oldest month through run_maintenance's own function,
 * timed from the client with its commit (where the files go).
 */
export async function dropOldestMonth(sql: Sql): Promise<{ month: string; events: number; bytes: number; statementMs: number; ms: number }> {
  const [oldest] = await sql.unsafe<{ name: string; upper: string }[]>(`
    select i.inhrelid::regclass::text as name, private.usage_partition_upper(i.inhrelid::regclass)::text as upper
    from pg_inherits i where i.inhparent = 'public.ai_usage_events'::regclass
      and private.usage_partition_upper(i.inhrelid::regclass) is not null
    order by private.usage_partition_upper(i.inhrelid::regclass) limit 1`);
  if (!oldest) throw new Error('bench: no month to drop');
  const [count] = await sql.unsafe<{ n: string; bytes: string }[]>(
    `select count(*)::text as n, pg_total_relation_size('${oldest.name}')::text as bytes from ${oldest.name}`,
  );
  // The statement (the database's work: locks, catalog rows) and the commit
  // (where the month's files are released) are timed apart.
  let statementMs = 0;
  const t0 = performance.now();
  await sql.begin(async (tx) => {
    const [dropped] = await tx.unsafe<{ names: string[] }[]>(`select private.drop_usage_partitions(now() - $1::timestamptz) as names`, [oldest.upper]);
    statementMs = performance.now() - t0;
    if (dropped?.names.length !== 1 || dropped.names[0] !== oldest.name) {
      throw new Error(`bench: dropping ${oldest.name} dropped ${JSON.stringify(dropped?.names)}`);
    }
  });
  const ms = performance.now() - t0;
  return {
    month: oldest.name.replace(/^.*_(\d{4})_(\d{2})$/, '$1-$2'),
    events: Number(count!.n),
    bytes: Number(count!.bytes),
    statementMs,
    ms,
  };
}

/** `months` old months (a year back) of `perMonth` events each, in their own partitions. */
export async function addSmallMonths(sql: Sql, users: string[], months: number, perMonth: number): Promise<void> {
  for (let m = 0; m < months; m++) {
    await sql.unsafe(`select private.create_usage_partition(date_trunc('month', now(), 'UTC') - make_interval(months => ${12 - m}))`);
    await sql.unsafe(
      `insert into ai_usage_events (user_id, idempotency_key, provider, model, agent_mode, input_tokens, cost_usd, cost_source, status, occurred_at)
       select ($1::uuid[])[1 + g % array_length($1::uuid[], 1)], 'old-${m}-' || g, 'ollama', 'llama3', 'debug', 10, 0, 'free_local', 'success',
         date_trunc('month', now(), 'UTC') - make_interval(months => ${12 - m}) + g * interval '1 minute'
       from generate_series(1, $2::int) g`,
      [users, perMonth],
    );
  }
}
