-- Sessions and messages through the API. The Witchcraft client (as the
-- signed-in user) starts, renames and ends its own sessions and adds messages
-- (src/policies/agentSessions.ts decides whose); owners, sequence numbers,
-- times and figures belong to the database. Nothing is deleted through the
-- client: sessions and messages go with the account.
revoke all on table public.agent_sessions from public, anon, authenticated, service_role;

grant select on table public.agent_sessions to authenticated;

grant insert (id, user_id, agent_mode, title, model, client_metadata) on table public.agent_sessions to authenticated;

grant update (title, status, client_metadata) on table public.agent_sessions to authenticated;

-- The backend: everything but a session's figures and updated_at, which only
-- record_usage and the message trigger write.
grant select, insert, delete on table public.agent_sessions to service_role;

grant update (id, user_id, agent_mode, title, model, status, client_metadata, started_at, last_activity_at, ended_at, created_at)
  on table public.agent_sessions to service_role;

revoke all on table public.agent_messages from public, anon, authenticated, service_role;

grant select on table public.agent_messages to authenticated;

grant insert (session_id, user_id, role, content, parts, input_tokens, output_tokens, model, latency_ms)
  on table public.agent_messages to authenticated;

grant select, insert, update, delete on table public.agent_messages to service_role;

revoke all on sequence public.agent_messages_id_seq from public, anon, authenticated, service_role;

grant all on sequence public.agent_messages_id_seq to anon, authenticated, service_role;
