-- Retention within a month: deletes up to p_batch_size raw events that
-- happened more than p_older_than ago and returns how many it deleted; call
-- it until it returns 0 (each call is its own short transaction). Daily
-- totals are separate rows and stay exact. Whole months go faster, and
-- without leaving dead rows to vacuum, by run_maintenance() dropping their
-- partitions (witchcraft.usage_retention_days).
--
-- The idempotency window: an event recorded less than
-- {{limits.idempotencyWindowDays}} days ago is never deleted, whatever its
-- occurred_at (a request may be recorded late), and p_older_than may not be
-- shorter than the window. A retried key therefore stays a duplicate for at
-- least {{limits.idempotencyWindowDays}} days after it was first recorded.
--
-- The log is append-only for every API role: this function (the owner's
-- rights, service_role only), run_maintenance dropping whole months and
-- account deletion are the only ways out.

create or replace function public.purge_usage_events(p_older_than interval, p_batch_size integer default 10000)
returns integer
language plpgsql
set search_path = pg_catalog, pg_temp
security definer
as $$
declare
  v_deleted integer;
begin
  if p_older_than is null or p_older_than < interval '{{limits.idempotencyWindowDays}} days' then
    perform private.bad_input('older_than', {{messages.purgeAge}});
  end if;
  if p_batch_size is null or p_batch_size not between 1 and {{limits.purgeBatchMax}} then
    perform private.bad_input('batch_size', {{messages.purgeBatch}});
  end if;
  delete from public.ai_usage_events e
  where (e.id, e.occurred_at) in (
    select x.id, x.occurred_at from public.ai_usage_events x
    where x.occurred_at < now() - p_older_than
      and x.created_at < now() - interval '{{limits.idempotencyWindowDays}} days'
    order by x.occurred_at
    limit p_batch_size);
  get diagnostics v_deleted = row_count;
  return v_deleted;
end;
$$;

comment on function public.purge_usage_events(interval, integer) is
  'Retention: deletes one batch of raw usage events older than the given age (at least the idempotency window, and never one recorded within it); returns how many. Daily totals stay.';

revoke all on function public.purge_usage_events(interval, integer) from public, anon, authenticated, service_role;

grant execute on function public.purge_usage_events(interval, integer) to service_role;
