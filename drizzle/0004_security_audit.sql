-- Defence in depth behind row-level security, and the audit trail.
--
-- On Supabase the API roles get ALL on every new table in public by default.
-- RLS is the real barrier; these grants narrow what the API roles could do
-- even if a policy were wrong. anon has no business with any table.
revoke all on all tables in schema public from anon;
--> statement-breakpoint
-- ...and on what later migrations create (Supabase's default privileges
-- would grant it again to every new table and sequence).
alter default privileges in schema public revoke all on tables from anon;
--> statement-breakpoint
alter default privileges in schema public revoke all on sequences from anon;
--> statement-breakpoint
-- Nobody empties a table, or hangs triggers or references on it, through the API.
revoke truncate, references, trigger on all tables in schema public from authenticated, service_role;
--> statement-breakpoint
-- Signed-in users only read usage, quotas, prices, tiers, providers and the audit log.
revoke insert, update, delete on public.ai_usage_events, public.ai_usage_daily, public.model_prices,
  public.ai_providers, public.quota_tiers, public.user_quotas, public.quota_reservations,
  public.audit_log from authenticated;
--> statement-breakpoint
-- Profiles: created by the sign-up trigger; a user changes only the display fields.
revoke insert, update, delete on public.profiles from authenticated;
--> statement-breakpoint
grant update (display_name, avatar_url) on public.profiles to authenticated;
--> statement-breakpoint
-- Sessions and messages are never deleted by the client (they go with the account).
revoke delete on public.agent_sessions, public.agent_messages from authenticated;
--> statement-breakpoint
-- The audit log is append-only for every API role, service_role included.
revoke update, delete on public.audit_log from service_role;
--> statement-breakpoint
-- Even the owner cannot change or delete entries, except through the
-- retention function below, which says so for its own transaction.
create or replace function private.audit_log_append_only()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'DELETE' and current_setting('witchcraft.audit_retention', true) = 'on' then
    return old;
  end if;
  raise exception using errcode = '42501', message = 'audit_log: entries are append-only';
end;
$$;
--> statement-breakpoint
revoke execute on function private.audit_log_append_only() from public, anon, authenticated;
--> statement-breakpoint
create trigger audit_log_append_only before update or delete on public.audit_log
  for each row execute function private.audit_log_append_only();
--> statement-breakpoint
create trigger audit_log_no_truncate before truncate on public.audit_log
  for each statement execute function private.audit_log_append_only();
--> statement-breakpoint
-- Retention: the one way entries leave the log. Deletes entries older than
-- p_older_than (at least 30 days) and returns how many. service_role only.
create or replace function public.purge_audit_log(p_older_than interval)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_count integer;
begin
  if p_older_than is null or p_older_than < interval '30 days' then
    perform private.bad_input('older_than', 'must be at least 30 days');
  end if;
  perform set_config('witchcraft.audit_retention', 'on', true);
  delete from public.audit_log a where a.occurred_at < now() - p_older_than;
  get diagnostics v_count = row_count;
  perform set_config('witchcraft.audit_retention', 'off', true);
  -- The purge itself is on the record.
  perform private.audit(null, 'audit.purged', 'audit_log', null, null,
    jsonb_build_object('older_than', p_older_than::text, 'purged', v_count));
  return v_count;
end;
$$;
--> statement-breakpoint
revoke execute on function public.purge_audit_log(interval) from public, anon, authenticated;
--> statement-breakpoint
grant execute on function public.purge_audit_log(interval) to service_role;
--> statement-breakpoint
-- Admin flag changes.
create or replace function private.audit_profile_admin()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.audit(new.id, 'profile.admin_changed', 'profiles', new.id::text,
    jsonb_build_object('is_admin', old.is_admin), jsonb_build_object('is_admin', new.is_admin));
  return null;
end;
$$;
--> statement-breakpoint
revoke execute on function private.audit_profile_admin() from public, anon, authenticated;
--> statement-breakpoint
create trigger profiles_audit_admin after update of is_admin on public.profiles
  for each row when (old.is_admin is distinct from new.is_admin)
  execute function private.audit_profile_admin();
--> statement-breakpoint
-- Tier, overrides and effective limits of a user.
create or replace function private.audit_user_quota()
returns trigger
language plpgsql
security definer
set search_path = ''
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
--> statement-breakpoint
revoke execute on function private.audit_user_quota() from public, anon, authenticated;
--> statement-breakpoint
create trigger user_quotas_audit after update on public.user_quotas
  for each row execute function private.audit_user_quota();
--> statement-breakpoint
-- A tier's limits (they reach every user on it).
create or replace function private.audit_quota_tier()
returns trigger
language plpgsql
security definer
set search_path = ''
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
--> statement-breakpoint
revoke execute on function private.audit_quota_tier() from public, anon, authenticated;
--> statement-breakpoint
create trigger quota_tiers_audit after update on public.quota_tiers
  for each row when ((old.monthly_token_limit, old.monthly_cost_limit_usd, old.daily_request_limit, old.soft_limit_percent)
    is distinct from (new.monthly_token_limit, new.monthly_cost_limit_usd, new.daily_request_limit, new.soft_limit_percent))
  execute function private.audit_quota_tier();

--> statement-breakpoint
-- Entries written through the API (service_role's own audit events) get the
-- database's time and the real role: a caller cannot backdate an entry or
-- write it in another role's name.
create or replace function private.audit_log_stamp()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_role text := current_setting('role', true);
begin
  if v_role in ('anon', 'authenticated', 'service_role') then
    new.occurred_at := now();
    new.actor_role := v_role;
  end if;
  return new;
end;
$$;
--> statement-breakpoint
revoke execute on function private.audit_log_stamp() from public, anon, authenticated;
--> statement-breakpoint
create trigger audit_log_stamp before insert on public.audit_log
  for each row execute function private.audit_log_stamp();
