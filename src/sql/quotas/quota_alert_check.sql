-- The exact path of quota alerts. record_usage and record_adjustment add each
-- request to the user's running totals (public.quota_alert_state) as the last
-- step of their transaction, and call this when a total reached its next
-- alert figure, or when the row is missing or of another period or day.
--
-- It runs under the lock of the user's row (taken here, or already held by
-- the caller's update), so a user's requests pass here one at a time and in
-- the order they commit: the first request to see a threshold reached is the
-- one that reached it. When asked to count (p_count), it takes the period's
-- figures from the daily totals as get_quota_status does: the committed
-- requests and the caller's own, which is already written. A request that
-- wrote its totals but has not reached the row yet is not in that count; it
-- adds itself to the row afterwards, so each request is counted once.
--
-- It writes a 'threshold_reached' notification for each threshold at or
-- below the figures (the unique key keeps one per user, limit, threshold and
-- period, so a threshold already told is not told again) and stores the next
-- figure of each limit. A new row (made here with an empty period) is
-- always counted. Called only by the accounting functions, with their
-- owner's rights.

create or replace function private.quota_alert_check(p_user_id uuid, p_count boolean)
returns void
language plpgsql
set search_path = pg_catalog, pg_temp
security invoker
as $$
declare
  v_today timestamptz := date_trunc('day', now(), 'UTC');
  q record;
  s public.quota_alert_state%rowtype;
  v_start timestamptz;
begin
  select uq.monthly_token_limit::numeric as token_limit, uq.monthly_cost_limit_usd as cost_limit,
         uq.daily_request_limit::numeric as request_limit, uq.reset_day, t.alert_percents
    into q
  from public.user_quotas uq join public.quota_tiers t on t.id = uq.tier_id
  where uq.user_id = p_user_id;
  if not found then
    return; -- no quota (the account is going): nothing to tell
  end if;
  v_start := private.quota_period_start(q.reset_day, now());

  -- A user's first request (or the first after their row was dropped) makes it.
  insert into public.quota_alert_state as st (user_id, period_start, period_end, day, period_tokens, period_cost_usd,
    day_requests, next_tokens, next_cost_usd, next_day_requests)
  values (p_user_id, v_start, v_start, v_today, 0, 0, 0, 0, 0, 0)
  on conflict (user_id) do nothing;
  select * into s from public.quota_alert_state st where st.user_id = p_user_id for update;

  if p_count or s.period_start <> v_start or s.period_end = s.period_start or s.day <> v_today then
    s.period_start := v_start;
    s.period_end := ((v_start at time zone 'UTC') + interval '1 month') at time zone 'UTC';
    s.day := v_today;
    select coalesce(sum(d.total_tokens), 0), coalesce(sum(d.cost_usd), 0),
           coalesce(sum(d.request_count) filter (where d.date = v_today), 0)
      into s.period_tokens, s.period_cost_usd, s.day_requests
    from public.ai_usage_daily d
    where d.user_id = p_user_id and d.date >= v_start;
  end if;

  insert into public.quota_notifications (user_id, kind, quota_limit, threshold_percent, period_start, used, limit_value)
  select p_user_id, 'threshold_reached', l.quota_limit, p.percent, l.period_start, trim_scale(l.used), trim_scale(l.limit_value)
  from (values ('monthly_tokens'::public.quota_limit, s.period_tokens, q.token_limit, s.period_start),
               ('monthly_cost_usd'::public.quota_limit, s.period_cost_usd, q.cost_limit, s.period_start),
               ('daily_requests'::public.quota_limit, s.day_requests, q.request_limit, s.day))
       as l (quota_limit, used, limit_value, period_start)
  cross join lateral (select distinct x as percent from unnest(q.alert_percents) x) p
  where l.used > 0 and l.used * 100 >= l.limit_value * p.percent
  order by l.quota_limit, p.percent
  on conflict (user_id, quota_limit, kind, threshold_percent, period_start) do nothing;

  -- The next threshold of each limit above its figure.
  select coalesce(min(q.token_limit * x / 100) filter (where s.period_tokens * 100 < q.token_limit * x), 'Infinity'),
         coalesce(min(q.cost_limit * x / 100) filter (where s.period_cost_usd * 100 < q.cost_limit * x), 'Infinity'),
         coalesce(min(q.request_limit * x / 100) filter (where s.day_requests * 100 < q.request_limit * x), 'Infinity')
    into s.next_tokens, s.next_cost_usd, s.next_day_requests
  from unnest(q.alert_percents) x;

  update public.quota_alert_state st
  set period_start = s.period_start, period_end = s.period_end, day = s.day, period_tokens = s.period_tokens,
      period_cost_usd = s.period_cost_usd, day_requests = s.day_requests, next_tokens = s.next_tokens, next_cost_usd = s.next_cost_usd,
      next_day_requests = s.next_day_requests
  where st.user_id = p_user_id;
end;
$$;

comment on function private.quota_alert_check(uuid, boolean) is
  'Under the lock of a user''s alert totals: counts them again from the daily totals when asked (or when the period or day changed), writes the threshold notifications due and stores the next alert figures.';

revoke all on function private.quota_alert_check(uuid, boolean) from public, anon, authenticated, service_role;
