-- Tells of a reservation refused at a limit: one 'limit_refused' notification
-- per user, limit and period (the unique key makes every further refusal in
-- the period a no-op). Called by reserve_quota, with its owner's rights, only
-- when it refuses.

create or replace function private.quota_refusal_notice(
  p_user_id uuid,
  p_limit public.quota_limit,
  p_period_start timestamptz,
  p_used numeric,
  p_limit_value numeric)
returns void
language plpgsql
set search_path = pg_catalog, pg_temp
security invoker
as $$
begin
  insert into public.quota_notifications (user_id, kind, quota_limit, threshold_percent, period_start, used, limit_value)
  values (p_user_id, 'limit_refused', p_limit, 100, p_period_start, trim_scale(p_used), trim_scale(p_limit_value))
  on conflict (user_id, quota_limit, kind, threshold_percent, period_start) do nothing;
end;
$$;

comment on function private.quota_refusal_notice(uuid, public.quota_limit, timestamp with time zone, numeric, numeric) is
  'Writes the once-per-period notification of a reservation refused at a limit.';

revoke all on function private.quota_refusal_notice(uuid, public.quota_limit, timestamp with time zone, numeric, numeric) from public, anon, authenticated, service_role;
