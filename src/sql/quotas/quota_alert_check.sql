-- The exact path of quota alerts (public.quota_alert_headroom). record_usage
-- and record_adjustment come here when their request does not fit in its
-- bucket's share of the distance to the next alert threshold, when the share
-- is of another day, or when the user has no shares yet. The caller's
-- attempt to take a share ran in a subtransaction that was rolled back, so
-- it comes holding none of the user's rows.
--
-- It locks the user's 8 rows in bucket order. That waits for every request
-- that took a share and has not committed yet (a request that took one never
-- waits for anything after), and keeps any other request of the user from
-- taking one until this transaction ends; two requests on this path take the
-- rows in the same order, one after the other. It then takes the period's
-- figures from get_quota_status: the committed requests and the caller's
-- own, which is already written. A request that wrote its totals
-- but has not come to the rows yet is not in that count: it takes its share
-- of the new distance afterwards, so each request is counted once.
--
-- It writes a 'threshold_reached' notification for each threshold at or
-- below the figures (the unique key keeps one per user, limit, threshold and
-- period, so a threshold already told is not told again) and shares the
-- distance to the next threshold of each limit out again over the 8 rows,
-- rounded down. The shares never add up to more than the distance, so the
-- request that reaches a threshold always comes here, in the transaction that
-- reaches it, and the figure it writes is the exact one. Under REPEATABLE
-- READ a row changed since the caller's snapshot fails the lock with a
-- serialization error (40001, retry), never with a wrong count. Called only
-- by the accounting functions, with their owner's rights.

create or replace function private.quota_alert_check(p_user_id uuid)
returns void
language plpgsql
set search_path = pg_catalog, pg_temp
security invoker
as $$
declare
  v_today timestamptz := date_trunc('day', now(), 'UTC');
  v_status record;
  v_percents smallint[];
  v_tokens numeric;
  v_cost numeric;
  v_requests numeric;
  v_tokens_left numeric;
  v_cost_left numeric;
  v_requests_left numeric;
begin
  insert into public.quota_alert_headroom (user_id, bucket, day_start, valid_until, tokens_left, cost_left_usd, requests_left)
  select p_user_id, b::smallint, v_today, v_today, 0, 0, 0 from generate_series(0, 7) b
  on conflict (user_id, bucket) do nothing;
  perform 1 from public.quota_alert_headroom h where h.user_id = p_user_id order by h.bucket for update;

  -- The figures as get_quota_status counts them (a statement started after
  -- the lock, so every request that took a share has committed).
  select * into v_status from public.get_quota_status(p_user_id);
  if not found then
    return; -- no quota (the account is going): nothing to tell, and the shares stay empty
  end if;
  select t.alert_percents into v_percents from public.quota_tiers t where t.id = v_status.tier_id;
  v_tokens := v_status.tokens_used;
  v_cost := v_status.cost_used_usd;
  v_requests := v_status.requests_today;

  insert into public.quota_notifications (user_id, kind, quota_limit, threshold_percent, period_start, used, limit_value)
  select p_user_id, 'threshold_reached', l.quota_limit, p.percent, l.period_start, trim_scale(l.used), trim_scale(l.limit_value)
  from (values ('monthly_tokens'::public.quota_limit, v_tokens, v_status.monthly_token_limit::numeric, v_status.period_start),
               ('monthly_cost_usd'::public.quota_limit, v_cost, v_status.monthly_cost_limit_usd, v_status.period_start),
               ('daily_requests'::public.quota_limit, v_requests, v_status.daily_request_limit::numeric, v_today))
       as l (quota_limit, used, limit_value, period_start)
  cross join lateral (select distinct x as percent from unnest(v_percents) x) p
  where l.used > 0 and l.used * 100 >= l.limit_value * p.percent
  order by l.quota_limit, p.percent
  on conflict (user_id, quota_limit, kind, threshold_percent, period_start) do nothing;

  -- The distance to the next threshold of each limit above its figure, shared by 8.
  select coalesce(floor(min(l.token_limit * x / 100 - v_tokens) filter (where v_tokens * 100 < l.token_limit * x) / 8), 'Infinity'),
         coalesce(trunc(min(l.cost_limit * x / 100 - v_cost) filter (where v_cost * 100 < l.cost_limit * x) / 8, 10), 'Infinity'),
         coalesce(floor(min(l.request_limit * x / 100 - v_requests) filter (where v_requests * 100 < l.request_limit * x) / 8), 'Infinity')
    into v_tokens_left, v_cost_left, v_requests_left
  from (select v_status.monthly_token_limit::numeric as token_limit, v_status.monthly_cost_limit_usd as cost_limit,
               v_status.daily_request_limit::numeric as request_limit) l
  cross join unnest(v_percents) x;

  update public.quota_alert_headroom h
  set day_start = v_today, valid_until = least(v_today + interval '1 day', v_status.period_end),
      tokens_left = v_tokens_left, cost_left_usd = v_cost_left, requests_left = v_requests_left
  where h.user_id = p_user_id;
end;
$$;

comment on function private.quota_alert_check(uuid) is
  'Counts a user''s quota period exactly under the lock of their alert headroom, writes the threshold notifications due and shares out the distance to the next thresholds.';

revoke all on function private.quota_alert_check(uuid) from public, anon, authenticated, service_role;
