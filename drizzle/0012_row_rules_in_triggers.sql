-- The row rules of agent_sessions move from CHECK constraints into its
-- BEFORE trigger. Every recorded request and every message rewrites the
-- session row, and Postgres turns each CHECK expression of a table back from
-- its stored form and prepares it again for every statement that writes the
-- table: about 14 µs for the session's six rules on the bench machine,
-- against about 1 µs inside the trigger, whose expressions are prepared once
-- per connection. The rules are the same, and a broken rule still fails with
-- SQLSTATE 23514, naming the rule (as the constraint) and the column.
--
-- The same trigger now also stamps updated_at, so a session update runs one
-- BEFORE trigger instead of two (agent_sessions_set_updated_at is dropped
-- below): every recorded request and every message updates the session row.
--
-- The daily totals' CHECK constraints go too, without a replacement: from
-- 0014 on, ai_usage_daily is written only by record_usage, which builds every
-- row from validated input (see 0014). The generated migration 0013 drops
-- the constraints.

-- Raises a check_violation for a row rule enforced by a trigger.
create or replace function private.row_rule_broken(p_rule text, p_column text, p_message text)
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
  raise exception using
    errcode = 'check_violation',
    constraint = p_rule,
    column = p_column,
    message = format('%s: %s (%s)', p_column, p_message, p_rule);
end;
$$;
--> statement-breakpoint
revoke execute on function private.row_rule_broken(text, text, text) from public, anon;
--> statement-breakpoint
grant execute on function private.row_rule_broken(text, text, text) to authenticated, service_role;
--> statement-breakpoint
-- The first of `p_columns` whose value in `p_row` is negative (for the error
-- message; only called once a rule is already known to be broken).
create or replace function private.first_negative(p_row jsonb, p_columns text[])
returns text
language sql
immutable
set search_path = ''
as $$
  select c from unnest(p_columns) with ordinality as u(c, n)
  where (p_row ->> c)::numeric < 0
  order by n
  limit 1
$$;
--> statement-breakpoint
revoke execute on function private.first_negative(jsonb, text[]) from public, anon;
--> statement-breakpoint
grant execute on function private.first_negative(jsonb, text[]) to authenticated, service_role;
--> statement-breakpoint
-- agent_sessions: the life cycle (see 0007), the updated_at stamp and, after it has done
-- its part, the row rules: title and model lengths, no end before the start,
-- no activity before the start, active exactly while there is no end, and
-- every figure non-negative.
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

  if char_length(new.title) > 500 then
    perform private.row_rule_broken('agent_sessions_title_length', 'title', 'must be at most 500 characters');
  end if;
  if char_length(new.model) > 200 then
    perform private.row_rule_broken('agent_sessions_model_length', 'model', 'must be at most 200 characters');
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
--> statement-breakpoint
drop trigger agent_sessions_set_updated_at on public.agent_sessions;
