-- A tier's limits reach every user on it: their changes are audited too.

create or replace function private.audit_quota_tier()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  perform private.audit(null, 'tier.limits_changed', 'quota_tiers', new.id,
    jsonb_build_object('monthly_token_limit', old.monthly_token_limit, 'monthly_cost_limit_usd', old.monthly_cost_limit_usd,
      'daily_request_limit', old.daily_request_limit, 'soft_limit_percent', old.soft_limit_percent),
    jsonb_build_object('monthly_token_limit', new.monthly_token_limit, 'monthly_cost_limit_usd', new.monthly_cost_limit_usd,
      'daily_request_limit', new.daily_request_limit, 'soft_limit_percent', new.soft_limit_percent));
  return null;
end;
$$;

comment on function private.audit_quota_tier() is
  'Trigger: audits changes of a tier''s limits.';

revoke all on function private.audit_quota_tier() from public, anon, authenticated, service_role;

create or replace trigger quota_tiers_audit after update on public.quota_tiers
  for each row when ((old.monthly_token_limit, old.monthly_cost_limit_usd, old.daily_request_limit, old.soft_limit_percent)
    is distinct from (new.monthly_token_limit, new.monthly_cost_limit_usd, new.daily_request_limit, new.soft_limit_percent))
  execute function private.audit_quota_tier();
