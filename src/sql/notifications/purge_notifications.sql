-- Retention of quota notifications: deletes one batch of those delivered or
-- given up more than p_older_than ago (at least
-- {{limits.notificationPurgeMinDays}} day). A deployment without an outbox
-- worker, whose notifications are never delivered, passes
-- p_undelivered_older_than too: notifications created longer ago than that
-- go whatever their delivery state. Returns how many went. A removed
-- notification is not written again: its period has ended long before.
-- Only service_role may call it.

create or replace function public.purge_notifications(
  p_older_than interval,
  p_batch_size integer default 10000,
  p_undelivered_older_than interval default null)
returns integer
language plpgsql
set search_path = pg_catalog, pg_temp
security definer
as $$
declare
  v_deleted integer;
begin
  if p_older_than is null or p_older_than < interval '{{limits.notificationPurgeMinDays}} days' then
    perform private.bad_input('older_than', {{messages.notificationPurgeAge}});
  end if;
  if p_undelivered_older_than < interval '{{limits.notificationPurgeMinDays}} days' then
    perform private.bad_input('undelivered_older_than', {{messages.notificationPurgeAge}});
  end if;
  if p_batch_size is null or p_batch_size not between 1 and {{limits.purgeBatchMax}} then
    perform private.bad_input('batch_size', {{messages.purgeBatch}});
  end if;
  delete from public.quota_notifications n
  where n.id in (
    (select x.id from public.quota_notifications x
     where (x.delivered_at is not null or x.gave_up_at is not null)
       and coalesce(x.delivered_at, x.gave_up_at) < now() - p_older_than
     limit p_batch_size)
    union all
    (select x.id from public.quota_notifications x
     where p_undelivered_older_than is not null and x.created_at < now() - p_undelivered_older_than
     order by x.id
     limit p_batch_size));
  get diagnostics v_deleted = row_count;
  return v_deleted;
end;
$$;

comment on function public.purge_notifications(interval, integer, interval) is
  'Retention: deletes one batch of quota notifications delivered or given up longer ago than the given age (and, when asked, any created longer ago than a second age); returns how many.';

revoke all on function public.purge_notifications(interval, integer, interval) from public, anon, authenticated, service_role;

grant execute on function public.purge_notifications(interval, integer, interval) to service_role;
