-- A user's tier, overrides and effective limits: every change is written to
-- the audit log by the database, with before and after.

create or replace function private.audit_user_quota()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_before jsonb := jsonb_build_object('tier_id', old.tier_id,
    'monthly_token_limit', old.monthly_token_limit, 'monthly_cost_limit_usd', old.monthly_cost_limit_usd,
    'daily_request_limit', old.daily_request_limit, 'soft_limit_percent', old.soft_limit_percent,
    'monthly_token_limit_override', old.monthly_token_limit_override,
    'monthly_cost_limit_usd_override', old.monthly_cost_limit_usd_override,
    'daily_request_limit_override', old.daily_request_limit_override,
    'soft_limit_percent_override', old.soft_limit_percent_override, 'reset_day', old.reset_day);
  v_after jsonb := jsonb_build_object('tier_id', new.tier_id,
    'monthly_token_limit', new.monthly_token_limit, 'monthly_cost_limit_usd', new.monthly_cost_limit_usd,
    'daily_request_limit', new.daily_request_limit, 'soft_limit_percent', new.soft_limit_percent,
    'monthly_token_limit_override', new.monthly_token_limit_override,
    'monthly_cost_limit_usd_override', new.monthly_cost_limit_usd_override,
    'daily_request_limit_override', new.daily_request_limit_override,
    'soft_limit_percent_override', new.soft_limit_percent_override, 'reset_day', new.reset_day);
begin
  if v_before is distinct from v_after then
    perform private.audit(new.user_id,
      case when old.tier_id is distinct from new.tier_id then 'quota.tier_changed' else 'quota.limits_changed' end,
      'user_quotas', new.user_id::text, v_before, v_after);
  end if;
  return null;
end;
$$;

comment on function private.audit_user_quota() is
  'Trigger: audits changes of a user''s tier, limits and overrides.';

revoke all on function private.audit_user_quota() from public, anon, authenticated, service_role;

create or replace trigger user_quotas_audit after update on public.user_quotas
  for each row execute function private.audit_user_quota();
