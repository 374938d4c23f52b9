-- agent_sessions: the life cycle, the updated_at stamp and the row rules.
-- A session ends exactly once: leaving 'active' stamps ended_at (now, or its
-- last activity if later, unless the backend gives a time), and an ended
-- session keeps its status and end for good. New sessions of the API's users
-- start active, now.
--
-- The row rules (title and model lengths, no end or activity before the
-- start, active exactly while there is no end, figures non-negative) are
-- checked here rather than as CHECK constraints: every recorded request and
-- every message rewrites the session row, and Postgres prepares CHECK
-- expressions again for each statement. A broken rule still fails with
-- SQLSTATE 23514 naming the rule. The trigger fires only for the columns it
-- looks after, so record_usage's update of the figures skips it.

create or replace function private.agent_sessions_life_cycle()
returns trigger
language plpgsql
set search_path = ''
security invoker
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
  else
    new.updated_at := now();
    if old.status <> 'active' then
      if new.status is distinct from old.status or new.ended_at is distinct from old.ended_at then
        perform private.bad_input('status', format('the session has already ended (%s)', old.status));
      end if;
    elsif new.status <> 'active' then
      -- Never before the last activity: an append that took the row lock first
      -- may carry a later transaction time than this end.
      new.ended_at := coalesce(new.ended_at, greatest(now(), old.started_at, old.last_activity_at));
    elsif new.ended_at is not null then
      perform private.bad_input('ended_at', 'is set by ending the session (status completed, failed or cancelled)');
    end if;
  end if;

  if char_length(new.title) > {{limits.sessionTitleLength}} then
    perform private.row_rule_broken('agent_sessions_title_length', 'title', {{messages.sessionTitle}});
  end if;
  if char_length(new.model) > {{limits.modelLength}} then
    perform private.row_rule_broken('agent_sessions_model_length', 'model', {{messages.modelAtMost}});
  end if;
  if new.ended_at < new.started_at then
    perform private.row_rule_broken('agent_sessions_ended_after_start', 'ended_at', 'must not be before started_at');
  end if;
  if new.last_activity_at < new.started_at then
    perform private.row_rule_broken('agent_sessions_activity_after_start', 'last_activity_at', 'must not be before started_at');
  end if;
  if (new.status = 'active') <> (new.ended_at is null) then
    perform private.row_rule_broken('agent_sessions_status_matches_end', 'status',
      'a session is active exactly while it has no ended_at');
  end if;
  if least(new.message_count, new.tool_call_count, new.request_count, new.latency_count) < 0
     or least(new.input_tokens, new.output_tokens, new.total_tokens, new.latency_ms_sum) < 0
     or new.cost_usd < 0 then
    perform private.row_rule_broken('agent_sessions_figures_non_negative',
      private.first_negative(to_jsonb(new), array['message_count', 'tool_call_count', 'request_count', 'latency_count',
        'input_tokens', 'output_tokens', 'total_tokens', 'latency_ms_sum', 'cost_usd']),
      'must not be negative');
  end if;
  return new;
end;
$$;

comment on function private.agent_sessions_life_cycle() is
  'Trigger: the session life cycle (ends once, never before its last activity), updated_at, and the row rules.';

revoke all on function private.agent_sessions_life_cycle() from public, anon, authenticated, service_role;

create or replace trigger agent_sessions_life_cycle
  before insert or update of id, user_id, agent_mode, title, model, status, client_metadata,
    started_at, last_activity_at, ended_at, created_at
  on public.agent_sessions
  for each row execute function private.agent_sessions_life_cycle();
