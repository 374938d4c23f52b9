-- Agent sessions: the database numbers messages, keeps each session's figures
-- and enforces its life cycle, whoever writes (the client through supabase-js
-- as `authenticated`, or the backend). Writers cannot set sequence numbers,
-- owners or figures themselves.

-- Before a message is stored: lock its session by updating it (so appends to
-- one session queue on that row and sequence numbers have no gaps and no
-- repeats), refuse ended sessions and other users' sessions, and take the
-- owner and the next sequence number from the session. Tool calls are the
-- parts of type tool_call / tool_use. Token figures come from usage events
-- (record_usage), not from messages, so nothing is counted twice.
create or replace function private.agent_messages_before_insert()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  -- The API role of the caller (inside this SECURITY DEFINER function
  -- current_user is the owner; the role the request took is in 'role').
  v_role text := current_setting('role', true);
  -- The signed-in user when the caller is authenticated; null for service_role and the backend.
  v_caller uuid := case when v_role = 'authenticated' then (select auth.uid()) end;
  v_tools integer := 0;
  v_owner uuid;
  v_seq integer;
begin
  if v_role = 'anon' or (v_role = 'authenticated' and v_caller is null) then
    perform private.bad_input('session_id', 'needs a signed-in user', '42501');
  end if;
  if jsonb_typeof(new.parts) = 'array' then
    select count(*) into v_tools from jsonb_array_elements(new.parts) p
    where p ->> 'type' in ('tool_call', 'tool_use');
  end if;

  update public.agent_sessions s set
    message_count = s.message_count + 1,
    tool_call_count = s.tool_call_count + v_tools,
    latency_ms_sum = s.latency_ms_sum + coalesce(new.latency_ms, 0),
    latency_count = s.latency_count + (new.latency_ms is not null)::int,
    last_activity_at = greatest(s.last_activity_at, now())
  where s.id = new.session_id
    and s.status = 'active'
    and (v_caller is null or s.user_id = v_caller)
    and (new.user_id is null or s.user_id = new.user_id)
  returning s.user_id, s.message_count into v_owner, v_seq;

  if not found then
    if exists (select 1 from public.agent_sessions s
               where s.id = new.session_id and s.status <> 'active'
                 and (v_caller is null or s.user_id = v_caller)
                 and (new.user_id is null or s.user_id = new.user_id)) then
      perform private.bad_input('session_id', 'the session has ended: messages go only into active sessions');
    end if;
    perform private.bad_input('session_id', 'is not a session of this user', '23503');
  end if;

  new.user_id := v_owner;
  new.seq := v_seq;
  new.created_at := now();
  return new;
end;
$$;
--> statement-breakpoint
revoke execute on function private.agent_messages_before_insert() from public, anon, authenticated;
--> statement-breakpoint
create trigger agent_messages_before_insert before insert on public.agent_messages
  for each row execute function private.agent_messages_before_insert();
--> statement-breakpoint
-- Messages are history: nobody rewrites them through the API.
revoke update, truncate on public.agent_messages from anon, authenticated;
--> statement-breakpoint
-- Life cycle: a session ends exactly once. Leaving 'active' stamps ended_at
-- (now, or its last activity if later, unless the backend gives a time); an ended session keeps its status
-- and end for good. New sessions always start active, now.
create or replace function private.agent_sessions_life_cycle()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'INSERT' then
    if new.status <> 'active' and current_user in ('authenticated', 'anon') then
      perform private.bad_input('status', 'a new session starts active');
    end if;
    if current_user in ('authenticated', 'anon') then
      new.started_at := now();
      new.last_activity_at := now();
    end if;
    return new;
  end if;
  if old.status <> 'active' then
    if new.status is distinct from old.status or new.ended_at is distinct from old.ended_at then
      perform private.bad_input('status', format('the session has already ended (%s)', old.status));
    end if;
    return new;
  end if;
  if new.status <> 'active' then
    -- Never before the last activity: an append that took the row lock first
    -- may carry a later transaction time than this end.
    new.ended_at := coalesce(new.ended_at, greatest(now(), old.started_at, old.last_activity_at));
  elsif new.ended_at is not null then
    perform private.bad_input('ended_at', 'is set by ending the session (status completed, failed or cancelled)');
  end if;
  return new;
end;
$$;
--> statement-breakpoint
revoke execute on function private.agent_sessions_life_cycle() from public, anon, authenticated;
--> statement-breakpoint
create trigger agent_sessions_life_cycle before insert or update on public.agent_sessions
  for each row execute function private.agent_sessions_life_cycle();
--> statement-breakpoint
-- What the client may write itself: sessions' descriptive columns and their
-- status (to end them); messages' content. Owners, sequence numbers, times
-- and figures belong to the database.
revoke insert, update, truncate on public.agent_sessions from anon, authenticated;
--> statement-breakpoint
grant insert (id, user_id, agent_mode, title, model, client_metadata) on public.agent_sessions to authenticated;
--> statement-breakpoint
grant update (title, status, client_metadata) on public.agent_sessions to authenticated;
--> statement-breakpoint
revoke insert on public.agent_messages from anon, authenticated;
--> statement-breakpoint
grant insert (session_id, user_id, role, content, parts, input_tokens, output_tokens, model, latency_ms) on public.agent_messages to authenticated;
--> statement-breakpoint
-- Closes sessions idle for longer than p_idle as abandoned, ended at their
-- last activity. Returns how many. For the backend's scheduler.
create or replace function public.close_idle_sessions(p_idle interval)
returns integer
language plpgsql
set search_path = ''
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
--> statement-breakpoint
revoke execute on function public.close_idle_sessions(interval) from public, anon, authenticated;
--> statement-breakpoint
grant execute on function public.close_idle_sessions(interval) to service_role;
--> statement-breakpoint
-- Latency of a session's messages: average (exact, from the running sums)
-- and p95, computed on demand from the session's own messages (bounded by its
-- length, found through the (session_id, seq) index). Caller's rights: RLS
-- decides whose sessions are visible.
create or replace function public.session_latency(p_session_id uuid)
returns table (latency_count integer, avg_ms numeric, p95_ms double precision)
language sql
stable
set search_path = ''
as $$
  select s.latency_count,
    case when s.latency_count > 0 then round(s.latency_ms_sum::numeric / s.latency_count, 3) end,
    (select percentile_cont(0.95) within group (order by m.latency_ms)
       from public.agent_messages m where m.session_id = s.id and m.latency_ms is not null)
  from public.agent_sessions s
  where s.id = p_session_id
$$;
--> statement-breakpoint
revoke execute on function public.session_latency(uuid) from public, anon;
--> statement-breakpoint
grant execute on function public.session_latency(uuid) to authenticated, service_role;
