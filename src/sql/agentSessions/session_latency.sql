-- Latency of a session's messages: average (exact, from the running sums)
-- and p95, computed on demand from the session's own messages (bounded by its
-- length, found through the (session_id, seq) index). Caller's rights: RLS
-- decides whose sessions are visible.

create or replace function public.session_latency(p_session_id uuid)
returns table (latency_count integer, avg_ms numeric, p95_ms double precision)
language sql
stable
set search_path = pg_catalog, pg_temp
security invoker
as $$
  select s.latency_count,
    case when s.latency_count > 0 then round(s.latency_ms_sum::numeric / s.latency_count, 3) end,
    (select percentile_cont(0.95) within group (order by m.latency_ms)
       from public.agent_messages m where m.session_id = s.id and m.latency_ms is not null)
  from public.agent_sessions s
  where s.id = p_session_id
$$;

comment on function public.session_latency(uuid) is
  'Average and p95 latency of a session''s messages. Caller''s rights (RLS).';

revoke all on function public.session_latency(uuid) from public, anon, authenticated, service_role;

grant execute on function public.session_latency(uuid) to authenticated, service_role;
