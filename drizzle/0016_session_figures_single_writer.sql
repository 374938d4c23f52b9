-- A session's figures (message, tool-call and request counts, tokens, cost,
-- latency sums) and its updated_at are written only by the database:
-- record_usage and the message trigger, which add validated, non-negative
-- amounts and stamp updated_at themselves. No API role writes them directly,
-- service_role included (authenticated never could; see 0007).
--
-- The life-cycle trigger (its rules and the updated_at stamp) then fires only
-- when a column it looks after is in the UPDATE's SET list: record_usage's
-- update of the figures, made on every recorded request, skips one trigger
-- call. Anything a client or the backend may change still goes through it.
revoke update on public.agent_sessions from service_role;
--> statement-breakpoint
grant update (id, user_id, agent_mode, title, model, status, client_metadata, started_at, last_activity_at, ended_at, created_at)
  on public.agent_sessions to service_role;
--> statement-breakpoint
drop trigger agent_sessions_life_cycle on public.agent_sessions;
--> statement-breakpoint
create trigger agent_sessions_life_cycle
  before insert or update of id, user_id, agent_mode, title, model, status, client_metadata,
    started_at, last_activity_at, ended_at, created_at
  on public.agent_sessions
  for each row execute function private.agent_sessions_life_cycle();
