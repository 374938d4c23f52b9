-- The outbox of quota notifications, for backends (an email or billing
-- service): hands out up to p_batch notifications not yet delivered, oldest
-- first, each with a fresh claim id. Rows another worker is claiming right now
-- are skipped (FOR UPDATE SKIP LOCKED), and a claimed row is not handed out
-- again while its claim holds, so concurrent workers never get the same row at
-- once. A claim holds for p_visibility, doubled for every earlier attempt (at
-- most {{limits.notificationBackoffMaxSeconds}} seconds): a worker that died or
-- failed gives the row back when its claim runs out, later each time. A row
-- claimed {{limits.notificationMaxAttempts}} times without an acknowledgement
-- is given up (gave_up_at) instead of handed out again.
--
-- Delivery is at least once: a worker that delivered but could not
-- acknowledge before its claim ran out may see the row delivered again by
-- another; the notification's id is the key to deduplicate on. Only
-- service_role may call it.

create or replace function public.claim_notifications(
  p_batch integer default 100,
  p_visibility interval default interval '30 seconds')
returns table (
  id bigint, claim_id uuid, attempts smallint, user_id uuid, kind public.notification_kind,
  quota_limit public.quota_limit, threshold_percent smallint, period_start timestamptz,
  used numeric, limit_value numeric, created_at timestamptz)
language plpgsql
set search_path = pg_catalog, pg_temp
security definer
as $$
begin
  if p_batch is null or p_batch not between 1 and {{limits.notificationClaimBatchMax}} then
    perform private.bad_input('batch', {{messages.claimBatch}});
  end if;
  if p_visibility is null or p_visibility < make_interval(secs => {{limits.notificationVisibilityMinSeconds}})
     or p_visibility > make_interval(secs => {{limits.notificationVisibilityMaxSeconds}}) then
    perform private.bad_input('visibility', {{messages.visibility}});
  end if;

  return query
  with c as (
    select n.id from public.quota_notifications n
    where n.delivered_at is null and n.gave_up_at is null
      and (n.claimed_until is null or n.claimed_until <= now())
    order by n.id
    limit p_batch
    for update skip locked
  ),
  u as (
    update public.quota_notifications n set
      attempts = least(n.attempts + 1, {{limits.notificationMaxAttempts}}),
      claim_id = case when n.attempts < {{limits.notificationMaxAttempts}} then gen_random_uuid() end,
      claimed_until = case when n.attempts < {{limits.notificationMaxAttempts}}
        then now() + least(p_visibility * power(2, n.attempts), make_interval(secs => {{limits.notificationBackoffMaxSeconds}})) end,
      gave_up_at = case when n.attempts >= {{limits.notificationMaxAttempts}} then now() end
    from c
    where n.id = c.id
    returning n.id, n.claim_id, n.attempts, n.user_id, n.kind, n.quota_limit, n.threshold_percent, n.period_start,
      n.used, n.limit_value, n.created_at, n.gave_up_at
  )
  select u.id, u.claim_id, u.attempts, u.user_id, u.kind, u.quota_limit, u.threshold_percent, u.period_start,
    u.used, u.limit_value, u.created_at
  from u
  where u.gave_up_at is null
  order by u.id;
end;
$$;

comment on function public.claim_notifications(integer, interval) is
  'Outbox: claims up to p_batch undelivered quota notifications for one worker (SKIP LOCKED); a claim holds for p_visibility, doubled per earlier attempt.';

revoke all on function public.claim_notifications(integer, interval) from public, anon, authenticated, service_role;

grant execute on function public.claim_notifications(integer, interval) to service_role;
