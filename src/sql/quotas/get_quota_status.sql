-- Quota status for the current period: limits, used, reserved, remaining,
-- percentages and soft/hard flags. Reads only the period's daily rows, the
-- user's active reservations and grants, so it costs the same whatever the
-- history. Personal figures only: usage and holds for an organisation count
-- against the organisation (get_organisation_quota_status). The limits are
-- the user's own; grant_tokens and grant_cost_usd are what the user's active
-- grants add to them, and what remains, the percentages and the flags count
-- the limit plus the grants.
-- Runs with the caller's rights: a user gets their own row and nothing for
-- anybody else (RLS), service_role any user's. plpgsql so that its plans are
-- kept between calls (a SQL function with its own search_path is planned anew
-- on every call).

create or replace function public.get_quota_status(p_user_id uuid default auth.uid())
returns table (
  user_id uuid, tier_id text, period_start timestamptz, period_end timestamptz,
  monthly_token_limit bigint, tokens_used bigint, tokens_reserved bigint, tokens_remaining bigint, tokens_percent numeric,
  monthly_cost_limit_usd numeric, cost_used_usd numeric, cost_reserved_usd numeric, cost_remaining_usd numeric, cost_percent numeric,
  daily_request_limit integer, requests_today bigint, requests_reserved bigint, requests_remaining bigint,
  soft_limit_percent smallint, soft_limit_reached boolean, hard_limit_reached boolean,
  grant_tokens bigint, grant_cost_usd numeric)
language plpgsql
stable
set search_path = pg_catalog, pg_temp
-- One plan, made once per session, of index scans only, whatever the
-- statistics say. Left to Postgres (auto), the plan followed the statistics
-- of quota_reservations: where a few users hold most active reservations
-- (the bench's large database: 128k of 144k rows on 9 users), the generic plan
-- is estimated at thousands of holds a user and dearer than a custom one, so
-- the statement was planned again on every call (0.29 against 0.09 ms) with a
-- bitmap scan. A bitmap scan also reads again, on every call, the heap page
-- of every reservation settled or released since the last vacuum (the partial
-- index keeps their entries until then, and autovacuum comes more rarely the
-- larger the table); a plain index scan marks those entries dead the first
-- time and skips them afterwards. Each statement here is one user's index
-- range, for which an index scan is the right plan at any size; without seq
-- and bitmap scans the generic plan is that plan even when the estimates are
-- off (with bitmap scans off alone, it was a seq scan of every reservation).
-- These settings hold only inside this function (its caller's are restored).
set plan_cache_mode = force_generic_plan
set enable_bitmapscan = off
set enable_seqscan = off
security invoker
as $$
declare
  q public.user_quotas%rowtype;
  v_start timestamptz;
  -- The period's end bounds the range too: with both bounds the generic plan
  -- is estimated as the narrow index range it is.
  v_end timestamptz;
  v_today timestamptz := date_trunc('day', now(), 'UTC');
  -- Sums in numeric: no number of rows can overflow them. The whole-number
  -- results are held at 2^53 - 1, the most a JSON or JavaScript number carries
  -- exactly ("at least this many"); limits are far below it, so the flags and
  -- what remains are exact.
  v_max constant numeric := {{limits.reportedCountMax}};
  v_tokens numeric;
  v_cost numeric;
  v_requests numeric;
  v_held_tokens numeric;
  v_held_cost numeric;
  v_held_requests numeric;
  v_grant_tokens numeric;
  v_grant_cost numeric;
  v_token_allowance numeric;
  v_cost_allowance numeric;
begin
  select * into q from public.user_quotas uq where uq.user_id = p_user_id;
  if not found then
    return;
  end if;
  v_start := private.quota_period_start(q.reset_day, now());
  v_end := ((v_start at time zone 'UTC') + interval '1 month') at time zone 'UTC';

  -- Cost paid on the user's own provider keys (byok) counts against no budget.
  -- The period's totals, the active holds and the grants, in one statement.
  select u.tokens, u.cost, u.requests, h.tokens, h.cost, h.requests, g.tokens, g.cost
    into v_tokens, v_cost, v_requests, v_held_tokens, v_held_cost, v_held_requests, v_grant_tokens, v_grant_cost
  from (select coalesce(sum(d.total_tokens), 0) as tokens, coalesce(sum(d.cost_usd - d.byok_cost_usd), 0) as cost,
               coalesce(sum(d.request_count) filter (where d.date = v_today), 0) as requests
        from public.ai_usage_daily d
        where d.user_id = p_user_id and d.date >= v_start and d.date < v_end) u,
       (select coalesce(sum(r.estimated_tokens), 0) as tokens, coalesce(sum(r.estimated_cost_usd), 0) as cost, count(*) as requests
        from public.quota_reservations r
        where r.user_id = p_user_id and r.status = 'active' and r.expires_at > now() and r.organisation_id is null) h,
       (select coalesce(sum(gr.tokens), 0) as tokens, coalesce(sum(gr.cost_usd), 0) as cost
        from public.quota_grants gr
        where gr.user_id = p_user_id and gr.expires_at > now() and gr.starts_at <= now() and gr.voided_at is null) g;
  v_token_allowance := q.monthly_token_limit + v_grant_tokens;
  v_cost_allowance := q.monthly_cost_limit_usd + v_grant_cost;

  return query select
    q.user_id, q.tier_id, v_start, v_end,
    q.monthly_token_limit, least(v_tokens, v_max)::bigint, least(v_held_tokens, v_max)::bigint,
    least(greatest(v_token_allowance - v_tokens - v_held_tokens, 0), v_max)::bigint,
    case when v_token_allowance > 0 then round(100.0 * (v_tokens + v_held_tokens) / v_token_allowance, 2) else 100 end,
    q.monthly_cost_limit_usd, v_cost, v_held_cost,
    greatest(v_cost_allowance - v_cost - v_held_cost, 0),
    case when v_cost_allowance > 0 then round(100.0 * (v_cost + v_held_cost) / v_cost_allowance, 2) else 100 end,
    q.daily_request_limit, least(v_requests, v_max)::bigint, least(v_held_requests, v_max)::bigint,
    greatest(q.daily_request_limit - v_requests - v_held_requests, 0)::bigint,
    q.soft_limit_percent,
    (v_tokens + v_held_tokens) * 100 >= v_token_allowance * q.soft_limit_percent
      or (v_cost + v_held_cost) * 100 >= v_cost_allowance * q.soft_limit_percent
      or (v_requests + v_held_requests) * 100 >= q.daily_request_limit::numeric * q.soft_limit_percent,
    v_tokens + v_held_tokens >= v_token_allowance
      or v_cost + v_held_cost >= v_cost_allowance
      or v_requests + v_held_requests >= q.daily_request_limit,
    least(v_grant_tokens, v_max)::bigint, v_grant_cost;
end;
$$;

comment on function public.get_quota_status(uuid) is
  'Quota status of a user for the current period: limits, use, holds, what remains, soft and hard flags. Caller''s rights (RLS).';

revoke all on function public.get_quota_status(uuid) from public, anon, authenticated, service_role;

grant execute on function public.get_quota_status(uuid) to authenticated, service_role;
