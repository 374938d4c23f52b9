-- Sessions and messages through the API. The Witchcraft client (as the
-- signed-in user) starts, renames and ends its own sessions and adds messages
-- (src/policies/agentSessions.ts decides whose); owners, sequence numbers,
-- times and figures belong to the database, and a session's owner never
-- changes. Messages are append-only for every API role, service_role
-- included; sessions and messages are deleted only with the account.
revoke all on table public.agent_sessions from public, anon, authenticated, service_role;

grant select on table public.agent_sessions to authenticated;

grant insert (id, user_id, agent_mode, title, model, client_metadata) on table public.agent_sessions to authenticated;

grant update (title, status, client_metadata) on table public.agent_sessions to authenticated;

-- The backend: the descriptive columns, the status and the times; never a
-- session's figures, its owner, its id or its stamps, which only the
-- database writes (record_usage, record_adjustment, the message trigger).
grant select on table public.agent_sessions to service_role;

grant insert (id, user_id, agent_mode, title, model, status, client_metadata, started_at, last_activity_at, ended_at)
  on table public.agent_sessions to service_role;

grant update (agent_mode, title, model, status, client_metadata, started_at, last_activity_at, ended_at)
  on table public.agent_sessions to service_role;

revoke all on table public.agent_messages from public, anon, authenticated, service_role;

grant select on table public.agent_messages to authenticated;

grant insert (session_id, user_id, role, content, parts, input_tokens, output_tokens, model, latency_ms)
  on table public.agent_messages to authenticated;

grant select on table public.agent_messages to service_role;

grant insert (session_id, user_id, role, content, parts, input_tokens, output_tokens, model, latency_ms)
  on table public.agent_messages to service_role;

-- Identity columns need no privilege on their sequence; nobody may move it (setval).
revoke all on sequence public.agent_messages_id_seq from public, anon, authenticated, service_role;
