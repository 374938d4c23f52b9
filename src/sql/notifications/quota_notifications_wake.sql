-- Wakes backends listening on the channel 'quota_notifications' (LISTEN):
-- the new notification's id as the payload, sent when the transaction that
-- wrote it commits (and never if it rolls back). Listeners still claim rows
-- with claim_notifications; the wake-up only spares them polling.

create or replace function private.quota_notifications_wake()
returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
security invoker
as $$
begin
  perform pg_notify('quota_notifications', new.id::text);
  return null;
end;
$$;

comment on function private.quota_notifications_wake() is
  'Trigger: NOTIFY quota_notifications with the new row''s id.';

revoke all on function private.quota_notifications_wake() from public, anon, authenticated, service_role;

create or replace trigger quota_notifications_wake after insert on public.quota_notifications
  for each row execute function private.quota_notifications_wake();
