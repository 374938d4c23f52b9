import { limits } from '../src/schema/limits.js';
import type { Sql } from './runner.js';

// Realistic data, generated inside the database (fast: no round trip per row).
// Loading runs as the migrating superuser with triggers off
// (session_replication_role = replica): the rows are made consistent here
// (events and their daily totals, sessions and their figures), the way years
// of record_usage calls would have left them.

const providers = [
  ['anthropic', 'claude-sonnet-4'],
  ['openai', 'gpt-4.1'],
  ['google', 'gemini-2.5-pro'],
  ['openrouter', 'deepseek-v3'],
  ['ollama', 'qwen2.5-coder:32b'],
] as const;

/** Signs `count` users up the way Supabase Auth does (triggers on: profile and quota per user). */
export async function createUsers(sql: Sql, count: number, prefix: string): Promise<string[]> {
  const rows = await sql.unsafe<{ id: string }[]>(
    `insert into auth.users (instance_id, id, aud, role, email, email_confirmed_at, raw_app_meta_data, raw_user_meta_data, created_at, updated_at)
     select '00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated', 'authenticated',
            $1 || g || '@bench.example', now(), '{"provider":"email"}', '{}', now(), now()
     from generate_series(1, $2::int) g
     returning id`,
    [prefix, count],
  );
  const ids = rows.map((r) => r.id);
  // Generous limits: the benchmark measures speed, not refusals.
  await sql.unsafe(
    `update user_quotas set monthly_token_limit_override = 1000000000000, monthly_cost_limit_usd_override = 1000000000,
       daily_request_limit_override = 1000000000
     where user_id = any($1::uuid[])`,
    [ids],
  );
  await sql.unsafe(
    `update user_quotas set monthly_token_limit = 1000000000000, monthly_cost_limit_usd = 1000000000,
       daily_request_limit = 1000000000
     where user_id = any($1::uuid[])`,
    [ids],
  );
  // And the tier's limits on what users write, at their largest: a run opens
  // many sessions a day and appends thousands of messages to each.
  await sql.unsafe(
    `update quota_tiers set max_active_sessions = ${limits.tierActiveSessionsMax}, max_sessions_per_day = ${limits.tierSessionsPerDayMax},
       max_messages_per_session = ${limits.tierMessagesPerSessionMax}
     where id in (select tier_id from user_quotas where user_id = any($1::uuid[]))`,
    [ids],
  );
  return ids;
}

/** Prices for the paid models, one change in the past so lookups pick by date. */
export async function loadPrices(sql: Sql): Promise<void> {
  await sql.unsafe(`insert into model_prices
      (provider, model, effective_from, input_per_mtok, output_per_mtok, cached_input_per_mtok, cache_write_per_mtok, reasoning_per_mtok)
    values
      ('anthropic', 'claude-sonnet-4', '2025-01-01', 3, 15, 0.3, 3.75, 15),
      ('anthropic', 'claude-sonnet-4', now() - interval '30 days', 2.5, 12, 0.25, 3, 12),
      ('openai', 'gpt-4.1', '2025-01-01', 2, 8, 0.5, 0, 8),
      ('google', 'gemini-2.5-pro', '2025-01-01', 1.25, 10, 0.31, 0, 10),
      ('openrouter', 'deepseek-v3', '2025-01-01', 0.27, 1.1, 0.07, 0, 1.1)
    on conflict do nothing`);
}

/**
 * Adds `count` events spread over `users`, with their daily totals and some
 * sessions, in chunks. `when: 'current'` puts them in the current month (the
 * activity a quota period holds); `'past'` spreads them over the 12 months
 * before it (history).
 */
export async function loadHistory(
  sql: Sql,
  users: string[],
  count: number,
  log: (line: string) => void,
  sessionsPerUser = 20,
  when: 'current' | 'past' = 'past',
): Promise<void> {
  await sql.unsafe(`set session_replication_role = replica`);
  await sql.unsafe(`create temp table if not exists bench_users (n int primary key, id uuid not null)`);
  await sql.unsafe(`truncate bench_users`);
  await sql.unsafe(`insert into bench_users select ordinality - 1, id from unnest($1::uuid[]) with ordinality as u(id, ordinality)`, [
    users,
  ]);
  const nUsers = users.length;
  // The months the events fall in get their partitions first, as
  // run_maintenance would have made them when those months came.
  await sql.unsafe(`select private.create_usage_partition(date_trunc('month', now(), 'UTC') - make_interval(months => m))
    from generate_series(0, ${when === 'current' ? 0 : 13}) m`);
  const [row] = await sql.unsafe<{ start: number }[]>(`select coalesce(max(id), 0)::bigint as start from ai_usage_events`);
  const start = Number(row?.start ?? 0);
  const chunk = 250_000;
  for (let done = 0; done < count; done += chunk) {
    const size = Math.min(chunk, count - done);
    const first = Number(start) + done + 1;
    await sql.unsafe(
      `insert into ai_usage_events
        (user_id, idempotency_key, provider, model, agent_mode, input_tokens, output_tokens, cached_input_tokens,
         cost_usd, cost_source, status, latency_ms, occurred_at, created_at)
       select u.id, 'hist-' || g, p.provider, p.model,
              (array['understand','debug','implement'])[1 + g % 3]::agent_mode,
              500 + g % 4000, 50 + g % 900, (g % 7) * 100,
              case when p.provider = 'ollama' then 0 else ((500 + g % 4000) * 3 + (50 + g % 900) * 15) / 1000000.0 end,
              case when p.provider = 'ollama' then 'free_local' else 'given' end::cost_source,
              case when g % 50 = 0 then 'error' else 'success' end::usage_status,
              200 + g % 3000,
              ${
                when === 'current'
                  ? `date_trunc('month', now(), 'UTC') + ((g % greatest(1, extract(day from now() at time zone 'UTC')::int - 1)) || ' days')::interval + ((g % 3600) || ' seconds')::interval`
                  : `date_trunc('month', now(), 'UTC') - ((1 + g % 365) || ' days')::interval - ((g % 86400) || ' seconds')::interval`
              },
              now()
       from generate_series($1::bigint, $2::bigint) g
       join bench_users u on u.n = g % $3
       join (select * from (values ${providers.map(([p, m], i) => `(${i}, '${p}', '${m}')`).join(', ')}) v(k, provider, model)) p
         on p.k = (g / 7) % ${providers.length}`,
      [first, first + size - 1, nUsers],
    );
    log(`  events: ${done + size} / ${count}`);
  }
  // The keys of the idempotency window: this month's events were recorded
  // just now, so a live database holds a key for each.
  if (when === 'current') {
    await sql.unsafe(`insert into ai_usage_event_keys (user_id, idempotency_key, event_id, occurred_at, created_at)
      select user_id, idempotency_key, id, occurred_at, created_at from ai_usage_events
      where id >= ${Number(start) + 1} and idempotency_key like 'hist-%'
      on conflict do nothing`);
    log('  idempotency keys of the window');
  }
  // Daily totals of exactly those events (bucket 0).
  await sql.unsafe(`insert into ai_usage_daily
      (user_id, date, provider, model, agent_mode, bucket, request_count, success_count, error_count, cancelled_count,
       unpriced_count, input_tokens, output_tokens, cached_input_tokens, cache_write_tokens, reasoning_tokens,
       total_tokens, cost_usd, latency_ms_sum, latency_count)
    select user_id, (occurred_at at time zone 'UTC')::date, provider, model, agent_mode, 0,
      count(*), count(*) filter (where status = 'success'), count(*) filter (where status = 'error'),
      count(*) filter (where status = 'cancelled'), count(*) filter (where cost_source = 'unpriced'),
      sum(input_tokens), sum(output_tokens), sum(cached_input_tokens), sum(cache_write_tokens), sum(reasoning_tokens),
      sum(total_tokens), coalesce(sum(cost_usd), 0), coalesce(sum(latency_ms), 0), count(latency_ms)
    from ai_usage_events where idempotency_key like 'hist-%' and id >= ${Number(start) + 1}
    group by 1, 2, 3, 4, 5
    on conflict (user_id, date, provider, model, agent_mode, bucket) do update set
      request_count = ai_usage_daily.request_count + excluded.request_count,
      success_count = ai_usage_daily.success_count + excluded.success_count,
      error_count = ai_usage_daily.error_count + excluded.error_count,
      cancelled_count = ai_usage_daily.cancelled_count + excluded.cancelled_count,
      unpriced_count = ai_usage_daily.unpriced_count + excluded.unpriced_count,
      input_tokens = ai_usage_daily.input_tokens + excluded.input_tokens,
      output_tokens = ai_usage_daily.output_tokens + excluded.output_tokens,
      cached_input_tokens = ai_usage_daily.cached_input_tokens + excluded.cached_input_tokens,
      cache_write_tokens = ai_usage_daily.cache_write_tokens + excluded.cache_write_tokens,
      reasoning_tokens = ai_usage_daily.reasoning_tokens + excluded.reasoning_tokens,
      total_tokens = ai_usage_daily.total_tokens + excluded.total_tokens,
      cost_usd = ai_usage_daily.cost_usd + excluded.cost_usd,
      latency_ms_sum = ai_usage_daily.latency_ms_sum + excluded.latency_ms_sum,
      latency_count = ai_usage_daily.latency_count + excluded.latency_count`);
  log('  daily totals rebuilt from the events');
  if (sessionsPerUser > 0) {
    await sql.unsafe(
      `insert into agent_sessions (user_id, agent_mode, title, model, status, started_at, last_activity_at, ended_at, message_count)
       select u.id, (array['understand','debug','implement'])[1 + s % 3]::agent_mode, 'session ' || s, 'claude-sonnet-4',
              'completed', now() - (s || ' hours')::interval, now() - (s || ' hours')::interval + interval '20 minutes',
              now() - (s || ' hours')::interval + interval '20 minutes', 0
       from bench_users u cross join generate_series(1, $1::int) s`,
      [sessionsPerUser],
    );
    log(`  sessions: ${sessionsPerUser * nUsers}`);
  }
  await sql.unsafe(`set session_replication_role = origin`);
  await sql.unsafe(`vacuum analyze`);
}
