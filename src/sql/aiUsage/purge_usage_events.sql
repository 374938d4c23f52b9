-- Retention: deletes up to p_batch_size raw events older than p_older_than
-- and returns how many it deleted; call it until it returns 0 (each call is
-- its own short transaction). Daily totals are separate rows and stay exact.

create or replace function public.purge_usage_events(p_older_than interval, p_batch_size integer default 10000)
returns integer
language plpgsql
set search_path = ''
security invoker
as $$
declare
  v_deleted integer;
begin
  if p_older_than is null or p_older_than < interval '1 day' then
    perform private.bad_input('older_than', 'must be at least 1 day');
  end if;
  if p_batch_size is null or p_batch_size not between 1 and {{limits.purgeBatchMax}} then
    perform private.bad_input('batch_size', {{messages.purgeBatch}});
  end if;
  delete from public.ai_usage_events e
  where e.id in (
    select x.id from public.ai_usage_events x
    where x.occurred_at < now() - p_older_than
    order by x.occurred_at
    limit p_batch_size);
  get diagnostics v_deleted = row_count;
  return v_deleted;
end;
$$;

comment on function public.purge_usage_events(interval, integer) is
  'Retention: deletes one batch of raw usage events older than the given age; returns how many. Daily totals stay.';

revoke all on function public.purge_usage_events(interval, integer) from public, anon, authenticated, service_role;

grant execute on function public.purge_usage_events(interval, integer) to service_role;
