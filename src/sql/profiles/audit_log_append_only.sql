-- The audit log is append-only: no API role holds UPDATE or DELETE on it
-- (profiles/grants.sql), and this trigger refuses even the owner, except for
-- the retention function (purge_audit_log), which says so for its own
-- transaction. TRUNCATE is refused too.

create or replace function private.audit_log_append_only()
returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
security invoker
as $$
begin
  if tg_op = 'DELETE' and current_setting('witchcraft.audit_retention', true) = 'on' then
    return old;
  end if;
  raise exception using errcode = '42501', message = 'audit_log: entries are append-only';
end;
$$;

comment on function private.audit_log_append_only() is
  'Trigger: refuses updates, deletes and truncation of audit_log, except deletes by purge_audit_log.';

revoke all on function private.audit_log_append_only() from public, anon, authenticated, service_role;

create or replace trigger audit_log_append_only before update or delete on public.audit_log
  for each row execute function private.audit_log_append_only();

create or replace trigger audit_log_no_truncate before truncate on public.audit_log
  for each statement execute function private.audit_log_append_only();
