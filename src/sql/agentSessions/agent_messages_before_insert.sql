-- Before a message is stored: lock its session by updating it (so appends to
-- one session queue on that row and sequence numbers have no gaps and no
-- repeats), refuse ended sessions and other users' sessions, and take the
-- owner and the next sequence number from the session. Tool calls are the
-- parts of type tool_call / tool_use. Token figures come from usage events
-- (record_usage), not from messages, so nothing is counted twice.
--
-- What a message may hold is bounded by the tier its session started under
-- (copied onto the session row, so the check costs no lookup): messages per
-- session, characters of content, bytes of parts, tool calls per message;
-- latency by {{limits.latencyMs}} ms. Refusals (SQLSTATE 54000) name the
-- field and the limit.
-- SECURITY DEFINER: the session figures are written only by the database.

create or replace function private.agent_messages_before_insert()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  -- The API role of the caller (inside this SECURITY DEFINER function
  -- current_user is the owner; the role the request took is in 'role').
  v_role text := current_setting('role', true);
  -- The signed-in user when the caller is authenticated; null for service_role and the backend.
  v_caller uuid := case when v_role = 'authenticated' then (select auth.uid()) end;
  v_tools integer := 0;
  v_parts_bytes integer := pg_column_size(new.parts);
  v_owner uuid;
  v_seq integer;
  v_message_limit integer;
  v_chars_limit integer;
  v_parts_limit integer;
  v_tools_limit integer;
begin
  if v_role = 'anon' or (v_role = 'authenticated' and v_caller is null) then
    perform private.bad_input('session_id', 'needs a signed-in user', '42501');
  end if;
  -- Bounds that need no tier, checked before any work.
  if new.latency_ms > {{limits.latencyMs}} then
    perform private.bad_input('latency_ms', {{messages.latency}});
  end if;
  if v_parts_bytes > {{limits.tierPartsBytesMax}} then
    perform private.bad_input('parts', format('must be at most %s bytes, not %s', {{limits.tierPartsBytesMax}},
      v_parts_bytes), '54000');
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
    last_activity_at = greatest(s.last_activity_at, now()),
    -- The session trigger skips updates made by triggers (this one): stamp here.
    updated_at = now()
  where s.id = new.session_id
    and s.status = 'active'
    and (v_caller is null or s.user_id = v_caller)
    and (new.user_id is null or s.user_id = new.user_id)
  returning s.user_id, s.message_count, s.message_limit, s.message_chars_limit, s.parts_bytes_limit, s.tool_calls_limit
    into v_owner, v_seq, v_message_limit, v_chars_limit, v_parts_limit, v_tools_limit;

  if not found then
    if exists (select 1 from public.agent_sessions s
               where s.id = new.session_id and s.status <> 'active'
                 and (v_caller is null or s.user_id = v_caller)
                 and (new.user_id is null or s.user_id = new.user_id)) then
      perform private.bad_input('session_id', 'the session has ended: messages go only into active sessions');
    end if;
    perform private.bad_input('session_id', 'is not a session of this user', '23503');
  end if;

  -- What the session may hold, from its owner's tier when it started
  -- (agent_sessions_life_cycle); raising undoes the session's update above.
  if v_seq > v_message_limit then
    perform private.bad_input('session_id', format('already holds %s messages, the most its tier allows (message_limit)',
      v_seq - 1), '54000');
  end if;
  if char_length(new.content) > v_chars_limit then
    perform private.bad_input('content', format('must be at most %s characters (the session''s tier, message_chars_limit), not %s',
      v_chars_limit, char_length(new.content)), '54000');
  end if;
  if v_parts_bytes > v_parts_limit then
    perform private.bad_input('parts', format('must be at most %s bytes (the session''s tier, parts_bytes_limit), not %s',
      v_parts_limit, v_parts_bytes), '54000');
  end if;
  if v_tools > v_tools_limit then
    perform private.bad_input('parts', format('must hold at most %s tool calls (the session''s tier, tool_calls_limit), not %s',
      v_tools_limit, v_tools), '54000');
  end if;

  new.user_id := v_owner;
  new.seq := v_seq;
  new.created_at := now();
  return new;
end;
$$;

comment on function private.agent_messages_before_insert() is
  'Trigger: numbers a new message in its session, takes its owner from the session and moves the session figures; refuses ended and foreign sessions and what the owner''s tier does not allow.';

revoke all on function private.agent_messages_before_insert() from public, anon, authenticated, service_role;

create or replace trigger agent_messages_before_insert before insert on public.agent_messages
  for each row execute function private.agent_messages_before_insert();
