-- A worker could not deliver a claimed notification: keeps the error (its
-- first {{limits.notificationErrorLength}} characters) and ends the claim.
-- The row comes back when the claim's backed-off time runs out, or is given
-- up at once when it has had its {{limits.notificationMaxAttempts}} attempts.
-- False when the claim is no longer the row's. Only service_role may call it.

create or replace function public.fail_notification(p_id bigint, p_claim_id uuid, p_error text)
returns boolean
language plpgsql
set search_path = pg_catalog, pg_temp
security definer
as $$
begin
  if p_id is null then perform private.bad_input('id', 'is required'); end if;
  if p_claim_id is null then perform private.bad_input('claim_id', 'is required'); end if;
  update public.quota_notifications n
  set claim_id = null,
      last_error = left(coalesce(p_error, 'unknown error'), {{limits.notificationErrorLength}}),
      gave_up_at = case when n.attempts >= {{limits.notificationMaxAttempts}} then now() end
  where n.id = p_id and n.claim_id = p_claim_id and n.delivered_at is null and n.gave_up_at is null;
  return found;
end;
$$;

comment on function public.fail_notification(bigint, uuid, text) is
  'Outbox: records a failed delivery of a claimed quota notification; it is claimed again after its backoff, or given up after the last attempt.';

revoke all on function public.fail_notification(bigint, uuid, text) from public, anon, authenticated, service_role;

grant execute on function public.fail_notification(bigint, uuid, text) to service_role;
