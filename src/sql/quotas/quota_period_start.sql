-- Start of the quota period containing p_at: the last p_reset_day (1..28) of
-- a month at or before p_at, midnight UTC. Reset day 1 is the calendar month.

create or replace function private.quota_period_start(p_reset_day integer, p_at timestamptz)
returns timestamptz
language plpgsql
immutable
set search_path = pg_catalog, pg_temp
security invoker
as $$
declare
  v_local timestamp := p_at at time zone 'UTC';
  v_start timestamp := date_trunc('month', v_local) + make_interval(days => p_reset_day - 1);
begin
  if v_start > v_local then
    v_start := date_trunc('month', v_local) - interval '1 month' + make_interval(days => p_reset_day - 1);
  end if;
  return v_start at time zone 'UTC';
end;
$$;

comment on function private.quota_period_start(integer, timestamp with time zone) is
  'Start (midnight UTC) of the quota period with the given reset day that contains the given time.';

revoke all on function private.quota_period_start(integer, timestamp with time zone) from public, anon, authenticated, service_role;

grant execute on function private.quota_period_start(integer, timestamp with time zone) to authenticated, service_role;
