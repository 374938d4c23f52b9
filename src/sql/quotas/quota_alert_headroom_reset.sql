-- The alert headroom (quota_alert_headroom) is shared out against a user's
-- limits, period and tier thresholds. When one of them changes, the user's
-- rows go, and their next request counts again (private.quota_alert_check)
-- against the new figures: on a change of the user's limits, tier or reset
-- day, and, for every user of a tier, on a change of the tier's alert
-- thresholds (a change of its limits reaches the users' own rows through
-- quota_tiers_propagate_limits).

create or replace function private.quota_alert_headroom_reset()
returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
security definer
as $$
begin
  if tg_table_name = 'quota_tiers' then
    delete from public.quota_alert_headroom h
    where h.user_id in (select uq.user_id from public.user_quotas uq where uq.tier_id = new.id);
  else
    delete from public.quota_alert_headroom h where h.user_id = new.user_id;
  end if;
  return null;
end;
$$;

comment on function private.quota_alert_headroom_reset() is
  'Trigger: drops the alert headroom of a user whose limits, tier or reset day change, or of every user of a tier whose alert thresholds change, so the next request counts again.';

revoke all on function private.quota_alert_headroom_reset() from public, anon, authenticated, service_role;

create or replace trigger quota_alert_headroom_reset
  after update of tier_id, monthly_token_limit, monthly_cost_limit_usd, daily_request_limit, reset_day,
    monthly_token_limit_override, monthly_cost_limit_usd_override, daily_request_limit_override
  on public.user_quotas
  for each row execute function private.quota_alert_headroom_reset();

create or replace trigger quota_alert_headroom_reset
  after update of alert_percents on public.quota_tiers
  for each row when (old.alert_percents is distinct from new.alert_percents)
  execute function private.quota_alert_headroom_reset();
