-- A tier's new limits reach every user on it (user_quotas' own trigger
-- recomputes each user's effective limits).

create or replace function private.quota_tiers_propagate_limits()
returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
security invoker
as $$
begin
  update public.user_quotas q set tier_id = q.tier_id where q.tier_id = new.id;
  return null;
end;
$$;

comment on function private.quota_tiers_propagate_limits() is
  'Trigger: recomputes the effective limits of every user on a tier whose limits changed.';

revoke all on function private.quota_tiers_propagate_limits() from public, anon, authenticated, service_role;

create or replace trigger quota_tiers_propagate_limits
  after update of monthly_token_limit, monthly_cost_limit_usd, daily_request_limit, soft_limit_percent
  on public.quota_tiers
  for each row execute function private.quota_tiers_propagate_limits();
