-- updated_at is the database's to set: whatever a writer sends, it becomes
-- now(). agent_sessions stamps it in its own life-cycle trigger instead (one
-- trigger per update on the row every request rewrites).

create or replace function private.set_updated_at()
returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
security invoker
as $$
begin
  new.updated_at := now();
  return new;
end;
$$;

comment on function private.set_updated_at() is
  'Trigger: sets updated_at to now() on every update.';

revoke all on function private.set_updated_at() from public, anon, authenticated, service_role;

create or replace trigger profiles_set_updated_at before update on public.profiles
  for each row execute function private.set_updated_at();

create or replace trigger quota_tiers_set_updated_at before update on public.quota_tiers
  for each row execute function private.set_updated_at();

create or replace trigger user_quotas_set_updated_at before update on public.user_quotas
  for each row execute function private.set_updated_at();

create or replace trigger ai_providers_set_updated_at before update on public.ai_providers
  for each row execute function private.set_updated_at();
