-- user_quotas' plain limit columns are the effective limits: the user's
-- override where set, else the tier's. Computed on every write, so readers
-- (the seed's check-quota query among them) need no join.

create or replace function private.user_quotas_effective_limits()
returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
security invoker
as $$
declare
  v_tier public.quota_tiers%rowtype;
begin
  select * into v_tier from public.quota_tiers t where t.id = new.tier_id;
  if not found then
    perform private.bad_input('tier_id', format('unknown tier %L', new.tier_id), '23503');
  end if;
  new.monthly_token_limit := coalesce(new.monthly_token_limit_override, v_tier.monthly_token_limit);
  new.monthly_cost_limit_usd := coalesce(new.monthly_cost_limit_usd_override, v_tier.monthly_cost_limit_usd);
  new.daily_request_limit := coalesce(new.daily_request_limit_override, v_tier.daily_request_limit);
  new.soft_limit_percent := coalesce(new.soft_limit_percent_override, v_tier.soft_limit_percent);
  return new;
end;
$$;

comment on function private.user_quotas_effective_limits() is
  'Trigger: sets a user''s effective limits from their overrides, else their tier.';

revoke all on function private.user_quotas_effective_limits() from public, anon, authenticated, service_role;

create or replace trigger user_quotas_effective_limits before insert or update on public.user_quotas
  for each row execute function private.user_quotas_effective_limits();
