-- Closes sessions idle for longer than p_idle as abandoned, ended at their
-- last activity. Returns how many. For the backend's scheduler.

create or replace function public.close_idle_sessions(p_idle interval)
returns integer
language plpgsql
set search_path = pg_catalog, pg_temp
security invoker
as $$
declare
  v_count integer;
begin
  if p_idle is null or p_idle < interval '1 minute' then
    perform private.bad_input('idle', 'must be at least 1 minute');
  end if;
  update public.agent_sessions s set status = 'abandoned', ended_at = greatest(s.last_activity_at, s.started_at)
  where s.ended_at is null and s.last_activity_at < now() - p_idle;
  get diagnostics v_count = row_count;
  return v_count;
end;
$$;

comment on function public.close_idle_sessions(interval) is
  'Closes sessions idle for longer than the given time as abandoned; returns how many.';

revoke all on function public.close_idle_sessions(interval) from public, anon, authenticated, service_role;

grant execute on function public.close_idle_sessions(interval) to service_role;
