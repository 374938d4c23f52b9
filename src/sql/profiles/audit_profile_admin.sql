-- Changes of the admin flag are written to the audit log by the database,
-- with before and after, whoever makes them.

create or replace function private.audit_profile_admin()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  perform private.audit(new.id, 'profile.admin_changed', 'profiles', new.id::text,
    jsonb_build_object('is_admin', old.is_admin), jsonb_build_object('is_admin', new.is_admin));
  return null;
end;
$$;

comment on function private.audit_profile_admin() is
  'Trigger: audits changes of profiles.is_admin.';

revoke all on function private.audit_profile_admin() from public, anon, authenticated, service_role;

create or replace trigger profiles_audit_admin after update of is_admin on public.profiles
  for each row when (old.is_admin is distinct from new.is_admin)
  execute function private.audit_profile_admin();
