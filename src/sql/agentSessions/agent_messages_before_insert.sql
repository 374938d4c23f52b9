-- Before a message is stored: lock its session by updating it (so appends to
-- one session queue on that row and sequence numbers have no gaps and no
-- repeats), refuse ended sessions and other users' sessions, and take the
-- owner and the next sequence number from the session. Tool calls are the
-- parts of type tool_call / tool_use. Token figures come from usage events
-- (record_usage), not from messages, so nothing is counted twice.
-- SECURITY DEFINER: the session figures are written only by the database.

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

comment on function private.agent_messages_before_insert() is
  'Trigger: numbers a new message in its session, takes its owner from the session and moves the session figures; refuses ended and foreign sessions.';

revoke all on function private.agent_messages_before_insert() from public, anon, authenticated, service_role;

create or replace trigger agent_messages_before_insert before insert on public.agent_messages
  for each row execute function private.agent_messages_before_insert();
