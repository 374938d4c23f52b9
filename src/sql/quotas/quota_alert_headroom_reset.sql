-- A change of a user's limits, tier or reset day makes their alert headroom
-- (quota_alert_headroom) stale: the rows go, and the user's next request
-- counts again (private.quota_alert_check) against the new figures. A tier's
-- new alert thresholds reach its users the same way, through the update that
-- quota_tiers_propagate_limits makes on their quota rows.

create or replace function private.quota_alert_headroom_reset()
returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
security definer
as $$
begin
  delete from public.quota_alert_headroom h where h.user_id = new.user_id;
  return null;
end;
$$;

comment on function private.quota_alert_headroom_reset() is
  'Trigger: drops a user''s alert headroom when their limits, tier or reset day change, so the next request counts again.';

revoke all on function private.quota_alert_headroom_reset() from public, anon, authenticated, service_role;

create or replace trigger quota_alert_headroom_reset
  after update of tier_id, monthly_token_limit, monthly_cost_limit_usd, daily_request_limit, reset_day,
    monthly_token_limit_override, monthly_cost_limit_usd_override, daily_request_limit_override
  on public.user_quotas
  for each row execute function private.quota_alert_headroom_reset();
