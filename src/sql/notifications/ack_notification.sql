-- A worker delivered a claimed notification: marks it delivered. Takes the
-- claim id claim_notifications handed out, so a worker whose claim ran out
-- and was handed to another cannot acknowledge the other's delivery (it gets
-- false; the row stays with its new claim). Acknowledging again with the same
-- claim is a no-op that answers true. Only service_role may call it.

create or replace function public.ack_notification(p_id bigint, p_claim_id uuid)
returns boolean
language plpgsql
set search_path = pg_catalog, pg_temp
security definer
as $$
begin
  if p_id is null then perform private.bad_input('id', 'is required'); end if;
  if p_claim_id is null then perform private.bad_input('claim_id', 'is required'); end if;
  update public.quota_notifications n
  set delivered_at = coalesce(n.delivered_at, now()), claimed_until = null, last_error = null
  where n.id = p_id and n.claim_id = p_claim_id and n.gave_up_at is null;
  return found;
end;
$$;

comment on function public.ack_notification(bigint, uuid) is
  'Outbox: marks a claimed quota notification delivered; false when the claim is no longer the row''s.';

revoke all on function public.ack_notification(bigint, uuid) from public, anon, authenticated, service_role;

grant execute on function public.ack_notification(bigint, uuid) to service_role;
