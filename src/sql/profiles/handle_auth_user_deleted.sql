-- Deleting an auth user deletes the profile, and with it (ON DELETE CASCADE)
-- every personal row: usage, daily totals, sessions, messages, quota,
-- reservations. The audit log has no foreign key and keeps its entries; this
-- adds one saying the account was deleted, without its personal data. The
-- idempotency keys of its usage have no foreign key either (a check on every
-- recorded request): they go here.

create or replace function private.handle_auth_user_deleted()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  delete from public.ai_usage_event_keys k where k.user_id = old.id;
  perform private.audit(old.id, 'user.deleted', 'auth.users', old.id::text, null, null);
  return old;
end;
$$;

comment on function private.handle_auth_user_deleted() is
  'Trigger on auth.users: notes the deletion of an account in the audit log.';

revoke all on function private.handle_auth_user_deleted() from public, anon, authenticated, service_role;

create or replace trigger on_auth_user_deleted after delete on auth.users
  for each row execute function private.handle_auth_user_deleted();
