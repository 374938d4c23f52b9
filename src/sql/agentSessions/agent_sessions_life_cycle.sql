-- agent_sessions: the life cycle, the updated_at stamp, the row rules and
-- the tier's limits on what users may start.
--
-- A session ends exactly once: leaving 'active' stamps ended_at (now, or its
-- last activity if later, unless the backend gives a time, which may not be
-- before the last activity either), and an ended session keeps its status and
-- end for good. A new session starts with every figure at zero, whoever
-- inserts it (only the database moves them), and new sessions of the API's
-- users start active, now.
--
-- What a user may start is bounded by their tier (quota_tiers): active
-- sessions at once, sessions started per day (UTC), and the size of
-- client_metadata, which is checked on every change. A new session also takes
-- the tier's limits on what it may hold (messages, characters, parts, tool
-- calls) into its own columns, whoever inserts it, so that the message
-- trigger needs no lookup: a session keeps the limits it started with. Concurrent starts of one
-- user are counted one after another (a transaction-level advisory lock per
-- user); the counts are exact at READ COMMITTED, PostgREST's level.
--
-- The row rules (title and model lengths, no end or activity before the
-- start, no end before the last activity, active exactly while there is no
-- end, figures non-negative) are checked here rather than as CHECK
-- constraints: every recorded request and every message rewrites the session
-- row, and Postgres prepares CHECK expressions again for each statement. A
-- broken rule still fails with SQLSTATE 23514 naming the rule. On an update
-- the trigger fires only for the columns it looks after, so record_usage's
-- update of the figures skips it, and only for updates made by a statement,
-- not by a trigger (pg_trigger_depth() = 0). The one trigger that updates a
-- session is the message trigger (agent_messages_before_insert): it touches
-- only an active session's figures and moves last_activity_at forward, which
-- keeps every rule here by construction, and stamps updated_at itself; so an
-- append costs no second trigger call. Every insert runs the trigger.

create or replace function private.agent_sessions_life_cycle()
returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
security invoker
as $$
declare
  v_tier public.quota_tiers%rowtype;
  v_count bigint;
  v_figure text;
begin
  if tg_op = 'INSERT' then
    if new.status <> 'active' and current_user in ('authenticated', 'anon') then
      perform private.bad_input('status', 'a new session starts active');
    end if;
    if current_user in ('authenticated', 'anon') then
      new.started_at := now();
      new.last_activity_at := now();
    end if;
    v_figure := case
      when new.message_count <> 0 then 'message_count'
      when new.tool_call_count <> 0 then 'tool_call_count'
      when new.request_count <> 0 then 'request_count'
      when new.input_tokens <> 0 then 'input_tokens'
      when new.output_tokens <> 0 then 'output_tokens'
      when new.total_tokens <> 0 then 'total_tokens'
      when new.cost_usd <> 0 then 'cost_usd'
      when new.latency_ms_sum <> 0 then 'latency_ms_sum'
      when new.latency_count <> 0 then 'latency_count'
    end;
    if v_figure is not null then
      perform private.row_rule_broken('agent_sessions_figures_start_at_zero', v_figure,
        'is kept by the database: a new session starts with every figure at zero');
    end if;
    new.created_at := now();
    new.updated_at := now();
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

  -- The tier's limits: on a start, and when client_metadata changes. A user
  -- without a quota row (or one the caller may not see) gets the default
  -- tier's; row-level security refuses a session for somebody else anyway.
  if tg_op = 'INSERT' or new.client_metadata is distinct from old.client_metadata then
    select t.* into v_tier
    from public.user_quotas q join public.quota_tiers t on t.id = q.tier_id
    where q.user_id = new.user_id;
    if not found then
      select t.* into v_tier from public.quota_tiers t where t.is_default;
    end if;
    if pg_column_size(new.client_metadata) > v_tier.max_metadata_bytes then
      perform private.bad_input('client_metadata', format('must be at most %s bytes (tier %s, max_metadata_bytes), not %s',
        v_tier.max_metadata_bytes, v_tier.id, pg_column_size(new.client_metadata)), '54000');
    end if;
    if tg_op = 'INSERT' then
      -- What the session may hold, for the message trigger: the tier's, now.
      new.message_limit := v_tier.max_messages_per_session;
      new.message_chars_limit := v_tier.max_message_chars;
      new.parts_bytes_limit := v_tier.max_parts_bytes;
      new.tool_calls_limit := v_tier.max_tool_calls_per_message;
      perform pg_advisory_xact_lock(hashtextextended('agent_sessions:' || new.user_id::text, 0));
      if new.ended_at is null then
        select count(*) into v_count from public.agent_sessions s where s.user_id = new.user_id and s.ended_at is null;
        if v_count >= v_tier.max_active_sessions then
          perform private.bad_input('user_id', format('has %s active sessions, the most tier %s allows (max_active_sessions): end one first',
            v_count, v_tier.id), '54000');
        end if;
      end if;
      select count(*) into v_count from public.agent_sessions s
      where s.user_id = new.user_id and s.started_at >= date_trunc('day', now(), 'UTC');
      if v_count >= v_tier.max_sessions_per_day then
        perform private.bad_input('user_id', format('started %s sessions today (UTC), the most tier %s allows (max_sessions_per_day)',
          v_count, v_tier.id), '54000');
      end if;
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
  if new.ended_at < new.last_activity_at then
    perform private.row_rule_broken('agent_sessions_ended_after_activity', 'ended_at', 'must not be before last_activity_at');
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
  'Trigger: the session life cycle (starts at zero, ends once, never before its last activity), updated_at, the row rules, and the tier''s limits on starts and client_metadata.';

revoke all on function private.agent_sessions_life_cycle() from public, anon, authenticated, service_role;

create or replace trigger agent_sessions_life_cycle
  before insert
  on public.agent_sessions
  for each row execute function private.agent_sessions_life_cycle();

create or replace trigger agent_sessions_life_cycle_update
  before update of id, user_id, agent_mode, title, model, status, client_metadata,
    started_at, last_activity_at, ended_at, created_at
  on public.agent_sessions
  for each row when (pg_trigger_depth() = 0) execute function private.agent_sessions_life_cycle();
