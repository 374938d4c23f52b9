-- Entries written through the API (service_role's own audit events) get the
-- database's time and the real role: a caller cannot backdate an entry or
-- write it in another role's name.

create or replace function private.audit_log_stamp()
returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
security invoker
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

comment on function private.audit_log_stamp() is
  'Trigger: entries inserted by an API role get the database time and that role.';

revoke all on function private.audit_log_stamp() from public, anon, authenticated, service_role;

create or replace trigger audit_log_stamp before insert on public.audit_log
  for each row execute function private.audit_log_stamp();
