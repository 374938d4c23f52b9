-- Records one AI request with everything that depends on it, in one
-- transaction: the event, its daily total, the session figures, the
-- reservation it settles and the quota notifications it makes due. A retry
-- with the same idempotency key returns the first event (duplicate = true)
-- and changes nothing. Errors name the field
-- ("field: rule", SQLSTATE 22023 for bad values, 23503 for missing rows)
-- and leave nothing written.
--
-- Events, daily totals and reservations are written only by the accounting
-- functions, so this runs with its owner's rights; only service_role may call
-- it. It therefore checks everything the rows must satisfy (the events table
-- has no CHECK constraints of its own): lengths of the key, model and error
-- code, token counts, costs and latencies within their bounds
-- (src/schema/limits.ts; the upper bounds also refuse NaN, which Postgres
-- orders above every number), and an
-- occurred_at that is finite, not in the future and not older than the
-- backdating limit: witchcraft.usage_backdating_days when the database sets
-- it (at most the idempotency window of {{limits.idempotencyWindowDays}} days),
-- else {{limits.usageBackdatingDays}} days.
--
-- Daily totals are spread over 8 bucket rows (the event id modulo 8), so one
-- user's concurrent requests seldom wait on one row, and a correction
-- (record_adjustment) lands in the same row as its request; readers sum over
-- buckets. A daily row and a session take at most
-- {{limits.requestsPerTotalRow}} requests, which keeps their token sums far
-- from overflowing.
--
-- Safe at every isolation level: under REPEATABLE READ or SERIALIZABLE a
-- total changed by a concurrent transaction fails with a serialization error
-- (40001, retry), never with a lost update.
--
-- Prices (model_prices): the row of the request's provider, model and
-- service tier whose schedule was in force at occurred_at, and in that
-- schedule the row with the largest min_context_tokens the prompt (input,
-- cache reads and cache writes) reaches; every kind of token of the request
-- is charged at that row's rates. 1-hour cache writes take the 1-hour rate,
-- web searches and other tool calls their price per thousand. A rate the row
-- lacks (null) for something the request used leaves the request unpriced.
-- The model name is normalised first (trimmed, lower case, without the
-- provider's own prefix), as normalizeModel does in TypeScript.
--
-- A request made for an organisation (p_organisation_id; the user must be a
-- member) is totalled in the organisation's daily rows and the member's,
-- instead of the user's personal ones: it counts against the organisation's
-- budget and the member's cap there, not the personal quota, and takes no
-- part in the personal quota alerts. The event keeps the organisation.
--
-- A request on the user's own provider key (p_byok) is recorded with its
-- cost, which its daily total also keeps as byok_cost_usd: quotas count no
-- BYOK cost.
--
-- Built for the hot path: one SQL statement on the normal path (and one
-- single-row update for the quota alerts), one generic plan per session,
-- search_path pg_catalog then pg_temp (pg_temp last, so a caller's temporary
-- type or table can never stand in for ours).

create or replace function public.record_usage(
  p_user_id uuid,
  p_idempotency_key text,
  p_provider text,
  p_model text,
  p_agent_mode public.agent_mode,
  p_input_tokens bigint default 0,
  p_output_tokens bigint default 0,
  p_cached_input_tokens bigint default 0,
  p_cache_write_tokens bigint default 0,
  p_reasoning_tokens bigint default 0,
  p_status public.usage_status default 'success',
  p_cost_usd numeric default null,
  p_latency_ms integer default null,
  p_session_id uuid default null,
  p_message_id bigint default null,
  p_reservation_id uuid default null,
  p_error_code text default null,
  p_occurred_at timestamptz default null,
  p_cache_write_1h_tokens bigint default 0,
  p_web_search_requests integer default 0,
  p_tool_requests integer default 0,
  p_service_tier public.service_tier default 'standard',
  p_byok boolean default false,
  p_organisation_id uuid default null)
returns table (event_id bigint, duplicate boolean, cost_usd numeric, cost_source public.cost_source, total_tokens bigint)
language plpgsql
set search_path = pg_catalog, pg_temp
-- One plan for the one statement, made once per session: nothing in it is
-- worth planning again for particular values.
set plan_cache_mode = force_generic_plan
security definer
as $$
declare
  v_at timestamptz := coalesce(p_occurred_at, now());
  v_max constant bigint := {{limits.tokensPerRequest}};
  v_backdating text;
  v_days integer;
  v_sessions integer;
  v_reservations integer;
  v_day_requests integer;
  v_session_requests integer;
  -- The model as prices and totals know it (normalizeModel in TypeScript):
  -- trimmed, lower case, without the provider's own prefix ('models/' for
  -- Google), below.
  v_model text := lower(btrim(p_model));
begin
  if strpos(v_model, '/') > 0 then
    if starts_with(v_model, p_provider || '/') then
      v_model := substr(v_model, char_length(p_provider) + 2);
    elsif p_provider = 'google' and starts_with(v_model, 'models/') then
      v_model := substr(v_model, 8);
    end if;
  end if;

  -- Validation: the same rules as the TypeScript schema, for callers that
  -- come straight here. Every expression of a plpgsql function is compiled
  -- again in each transaction, so on the hot path the size of what is
  -- checked counts: a valid call evaluates one compact condition (num_nulls,
  -- least and greatest over the counts); a call that breaks a rule, or gives
  -- its own occurred_at, goes through the checks one by one, which name the
  -- field. A null operand of the condition counts as no violation, as in the
  -- checks (p_cost_usd, p_latency_ms and p_error_code may be null).
  if num_nulls(p_user_id, p_idempotency_key, v_model, p_agent_mode, p_input_tokens, p_output_tokens,
               p_cached_input_tokens, p_cache_write_tokens, p_reasoning_tokens, p_cache_write_1h_tokens,
               p_web_search_requests, p_tool_requests, p_service_tier, p_byok, p_status) > 0
     or least(p_input_tokens, p_output_tokens, p_cached_input_tokens, p_cache_write_tokens, p_reasoning_tokens,
              p_cache_write_1h_tokens, p_web_search_requests, p_tool_requests) < 0
     or greatest(p_input_tokens, p_output_tokens, p_cached_input_tokens, p_cache_write_tokens, p_reasoning_tokens) > v_max
     or greatest(p_web_search_requests, p_tool_requests) > {{limits.extrasPerRequest}}
     or p_cache_write_1h_tokens > p_cache_write_tokens
     or char_length(p_idempotency_key) not between 1 and {{limits.idempotencyKeyLength}}
     or char_length(v_model) not between 1 and {{limits.modelLength}}
     or p_cost_usd not between 0 and {{limits.costPerRequestUsd}}
     or p_latency_ms not between 0 and {{limits.latencyMs}}
     or char_length(p_error_code) > {{limits.errorCodeLength}}
     or p_occurred_at is not null then
    if p_user_id is null then perform private.bad_input('user_id', 'is required'); end if;
    if p_idempotency_key is null or char_length(p_idempotency_key) not between 1 and {{limits.idempotencyKeyLength}} then
      perform private.bad_input('idempotency_key', {{messages.idempotencyKey}});
    end if;
    if v_model is null or char_length(v_model) not between 1 and {{limits.modelLength}} then
      perform private.bad_input('model', {{messages.model}});
    end if;
    if p_agent_mode is null then perform private.bad_input('agent_mode', 'is required'); end if;
    if p_input_tokens is null or p_input_tokens not between 0 and v_max then
      perform private.bad_input('input_tokens', {{messages.tokens}});
    end if;
    if p_output_tokens is null or p_output_tokens not between 0 and v_max then
      perform private.bad_input('output_tokens', {{messages.tokens}});
    end if;
    if p_cached_input_tokens is null or p_cached_input_tokens not between 0 and v_max then
      perform private.bad_input('cached_input_tokens', {{messages.tokens}});
    end if;
    if p_cache_write_tokens is null or p_cache_write_tokens not between 0 and v_max then
      perform private.bad_input('cache_write_tokens', {{messages.tokens}});
    end if;
    if p_reasoning_tokens is null or p_reasoning_tokens not between 0 and v_max then
      perform private.bad_input('reasoning_tokens', {{messages.tokens}});
    end if;
    if p_cache_write_1h_tokens is null or p_cache_write_1h_tokens not between 0 and p_cache_write_tokens then
      perform private.bad_input('cache_write_1h_tokens', {{messages.cacheWrite1h}});
    end if;
    if p_web_search_requests is null or p_web_search_requests not between 0 and {{limits.extrasPerRequest}} then
      perform private.bad_input('web_search_requests', {{messages.extras}});
    end if;
    if p_tool_requests is null or p_tool_requests not between 0 and {{limits.extrasPerRequest}} then
      perform private.bad_input('tool_requests', {{messages.extras}});
    end if;
    if p_service_tier is null then perform private.bad_input('service_tier', 'is required'); end if;
    if p_byok is null then perform private.bad_input('byok', 'is required'); end if;
    if p_cost_usd not between 0 and {{limits.costPerRequestUsd}} then
      perform private.bad_input('cost_usd', {{messages.cost}});
    end if;
    if p_latency_ms not between 0 and {{limits.latencyMs}} then
      perform private.bad_input('latency_ms', {{messages.latency}});
    end if;
    if char_length(p_error_code) > {{limits.errorCodeLength}} then
      perform private.bad_input('error_code', {{messages.errorCode}});
    end if;
    if p_status is null then perform private.bad_input('status', 'is required'); end if;
    if v_at > now() + make_interval(secs => {{limits.clockSkewSeconds}}) then
      perform private.bad_input('occurred_at', {{messages.occurredAtFuture}});
    end if;
    if v_at < now() then
      -- How far back: the database's setting when it has one, else the default.
      v_backdating := current_setting('witchcraft.usage_backdating_days', true);
      if coalesce(v_backdating, '') = '' then
        v_days := {{limits.usageBackdatingDays}};
      elsif v_backdating ~ '^[0-9]{1,3}$' and v_backdating::integer <= {{limits.idempotencyWindowDays}} then
        v_days := v_backdating::integer;
      else
        perform private.bad_input('witchcraft.usage_backdating_days',
          format('must be a whole number of days from 0 to %s (the idempotency window), not %L', {{limits.idempotencyWindowDays}}, v_backdating));
      end if;
      if v_at < now() - make_interval(days => v_days) then
        perform private.bad_input('occurred_at',
          format('must not be more than %s days in the past (witchcraft.usage_backdating_days)', v_days));
      end if;
    end if;
  end if;

  -- The whole request in one statement: the price in force at the request's
  -- time and the cost, the event, its daily total, the session figures and
  -- the reservation it settles. When the provider is unknown the first step
  -- yields no row, and when the key was taken before the key's insert (and so
  -- the event's) returns nothing; either way nothing is written, and the reason is worked out
  -- below, off the hot path. An unknown user is refused by the events'
  -- foreign key at the end of the statement (SQLSTATE 23503, "Key (user_id)"
  -- in the detail), which undoes every write: no lookup of our own for it.
  if p_organisation_id is null then
    with p as (
      select
        case when p_cost_usd is not null then p_cost_usd
             when pr.is_local then 0
             else mp.cost
        end as cost,
        case when p_cost_usd is not null then 'given'
             when pr.is_local then 'free_local'
             when mp.cost is not null then 'price_table'
             else 'unpriced'
        end::public.cost_source as source,
        case when mp.cost is not null then mp.id end as price_id
      from public.ai_providers pr
      left join lateral (
        select m.id,
          (p_input_tokens * m.input_per_mtok + p_output_tokens * m.output_per_mtok
           + p_cached_input_tokens * m.cached_input_per_mtok
           + (p_cache_write_tokens - p_cache_write_1h_tokens) * m.cache_write_per_mtok
           + case when p_cache_write_1h_tokens = 0 then 0 else p_cache_write_1h_tokens * m.cache_write_1h_per_mtok end
           + p_reasoning_tokens * m.reasoning_per_mtok) / 1000000
          + (case when p_web_search_requests = 0 then 0 else p_web_search_requests * m.web_search_per_k end
             + case when p_tool_requests = 0 then 0 else p_tool_requests * m.tool_request_per_k end) / 1000 as cost
        from public.model_prices m
        where m.provider = p_provider and m.model = v_model and m.service_tier = p_service_tier
          and m.effective_from <= v_at
          and m.min_context_tokens <= p_input_tokens + p_cached_input_tokens + p_cache_write_tokens
        order by m.effective_from desc, m.min_context_tokens desc
        limit 1) mp on p_cost_usd is null and not pr.is_local
      where pr.id = p_provider
    ),
    -- The key first: a retry finds it taken and writes nothing.
    k as (
      insert into public.ai_usage_event_keys as k (user_id, idempotency_key, event_id, occurred_at)
      select p_user_id, p_idempotency_key, nextval('public.ai_usage_events_id_seq'), v_at
      from p
      on conflict (user_id, idempotency_key) do nothing
      returning k.event_id
    ),
    e as (
      insert into public.ai_usage_events as ev (
        id, user_id, session_id, message_id, reservation_id, idempotency_key, provider, model, agent_mode,
        input_tokens, output_tokens, cached_input_tokens, cache_write_tokens, reasoning_tokens,
        cost_usd, cost_source, price_id, latency_ms, status, error_code, occurred_at,
        cache_write_1h_tokens, web_search_requests, tool_requests, service_tier, byok)
      overriding system value
      select
        k.event_id, p_user_id, p_session_id, p_message_id, p_reservation_id, p_idempotency_key, p_provider, v_model, p_agent_mode,
        p_input_tokens, p_output_tokens, p_cached_input_tokens, p_cache_write_tokens, p_reasoning_tokens,
        p.cost, p.source, p.price_id, p_latency_ms, p_status, p_error_code, v_at,
        p_cache_write_1h_tokens, p_web_search_requests, p_tool_requests, p_service_tier, p_byok
      from p cross join k
      returning ev.id, ev.total_tokens, ev.cost_usd, ev.cost_source
    ),
    d as (
      insert into public.ai_usage_daily as d (
        user_id, date, provider, model, agent_mode, bucket,
        request_count, success_count, error_count, cancelled_count, unpriced_count,
        input_tokens, output_tokens, cached_input_tokens, cache_write_tokens, reasoning_tokens, total_tokens,
        cost_usd, latency_ms_sum, latency_count,
        cache_write_1h_tokens, web_search_requests, tool_requests, byok_cost_usd)
      select p_user_id, date_trunc('day', v_at, 'UTC'), p_provider, v_model, p_agent_mode, (e.id % 8)::smallint,
        1, (p_status = 'success')::int, (p_status = 'error')::int, (p_status = 'cancelled')::int,
        (e.cost_source = 'unpriced')::int,
        p_input_tokens, p_output_tokens, p_cached_input_tokens, p_cache_write_tokens, p_reasoning_tokens, e.total_tokens,
        coalesce(e.cost_usd, 0), coalesce(p_latency_ms, 0), (p_latency_ms is not null)::int,
        p_cache_write_1h_tokens, p_web_search_requests, p_tool_requests,
        case when p_byok then coalesce(e.cost_usd, 0) else 0 end
      from e
      on conflict (user_id, date, provider, model, agent_mode, bucket) do update set
        request_count = d.request_count + 1,
        success_count = d.success_count + excluded.success_count,
        error_count = d.error_count + excluded.error_count,
        cancelled_count = d.cancelled_count + excluded.cancelled_count,
        unpriced_count = d.unpriced_count + excluded.unpriced_count,
        input_tokens = d.input_tokens + excluded.input_tokens,
        output_tokens = d.output_tokens + excluded.output_tokens,
        cached_input_tokens = d.cached_input_tokens + excluded.cached_input_tokens,
        cache_write_tokens = d.cache_write_tokens + excluded.cache_write_tokens,
        reasoning_tokens = d.reasoning_tokens + excluded.reasoning_tokens,
        total_tokens = d.total_tokens + excluded.total_tokens,
        cost_usd = d.cost_usd + excluded.cost_usd,
        latency_ms_sum = d.latency_ms_sum + excluded.latency_ms_sum,
        latency_count = d.latency_count + excluded.latency_count,
        cache_write_1h_tokens = d.cache_write_1h_tokens + excluded.cache_write_1h_tokens,
        web_search_requests = d.web_search_requests + excluded.web_search_requests,
        tool_requests = d.tool_requests + excluded.tool_requests,
        byok_cost_usd = d.byok_cost_usd + excluded.byok_cost_usd,
        updated_at = now()
      returning d.request_count
    ),
    -- Session figures: input counts everything read (incl. cache), output everything written (incl. reasoning).
    s as (
      update public.agent_sessions ss set
        request_count = ss.request_count + 1,
        input_tokens = ss.input_tokens + p_input_tokens + p_cached_input_tokens + p_cache_write_tokens,
        output_tokens = ss.output_tokens + p_output_tokens + p_reasoning_tokens,
        total_tokens = ss.total_tokens + e.total_tokens,
        cost_usd = ss.cost_usd + coalesce(e.cost_usd, 0),
        updated_at = now()
      from e
      where ss.id = p_session_id and ss.user_id = p_user_id
      returning ss.request_count
    ),
    -- The real usage replaces the estimate. A reservation that expired (or was
    -- swept) while the request ran is settled all the same: the request happened.
    r as (
      update public.quota_reservations rr set status = 'settled', resolved_at = now()
      where rr.id = p_reservation_id and rr.user_id = p_user_id and rr.status in ('active', 'expired')
        and exists (select 1 from e)
      returning rr.id
    )
    -- d has one row for the event, s and r at most one each (joined, not
    -- aggregated: an aggregate is more to build for every call).
    select e.id, e.total_tokens, e.cost_usd, e.cost_source, (s.request_count is not null)::int, (r.id is not null)::int,
           d.request_count, s.request_count
      into event_id, total_tokens, cost_usd, cost_source, v_sessions, v_reservations, v_day_requests, v_session_requests
    from e cross join d left join s on true left join r on true;
  else
    -- An organisation's request (the user must be a member): the same,
    -- with the organisation's daily total and the member's instead of the
    -- user's. Two statements rather than one with both kinds of totals: a
    -- statement opens every table it may write on each call, rows or not,
    -- and the personal path would pay for the organisation's.
    with p as (
      select
        case when p_cost_usd is not null then p_cost_usd
             when pr.is_local then 0
             else mp.cost
        end as cost,
        case when p_cost_usd is not null then 'given'
             when pr.is_local then 'free_local'
             when mp.cost is not null then 'price_table'
             else 'unpriced'
        end::public.cost_source as source,
        case when mp.cost is not null then mp.id end as price_id
      from public.ai_providers pr
      left join lateral (
        select m.id,
          (p_input_tokens * m.input_per_mtok + p_output_tokens * m.output_per_mtok
           + p_cached_input_tokens * m.cached_input_per_mtok
           + (p_cache_write_tokens - p_cache_write_1h_tokens) * m.cache_write_per_mtok
           + case when p_cache_write_1h_tokens = 0 then 0 else p_cache_write_1h_tokens * m.cache_write_1h_per_mtok end
           + p_reasoning_tokens * m.reasoning_per_mtok) / 1000000
          + (case when p_web_search_requests = 0 then 0 else p_web_search_requests * m.web_search_per_k end
             + case when p_tool_requests = 0 then 0 else p_tool_requests * m.tool_request_per_k end) / 1000 as cost
        from public.model_prices m
        where m.provider = p_provider and m.model = v_model and m.service_tier = p_service_tier
          and m.effective_from <= v_at
          and m.min_context_tokens <= p_input_tokens + p_cached_input_tokens + p_cache_write_tokens
        order by m.effective_from desc, m.min_context_tokens desc
        limit 1) mp on p_cost_usd is null and not pr.is_local
      where pr.id = p_provider
        and exists (select 1 from public.organisation_members om
                    where om.organisation_id = p_organisation_id and om.user_id = p_user_id)
    ),
    -- The key first: a retry finds it taken and writes nothing.
    k as (
      insert into public.ai_usage_event_keys as k (user_id, idempotency_key, event_id, occurred_at)
      select p_user_id, p_idempotency_key, nextval('public.ai_usage_events_id_seq'), v_at
      from p
      on conflict (user_id, idempotency_key) do nothing
      returning k.event_id
    ),
    e as (
      insert into public.ai_usage_events as ev (
        id, user_id, session_id, message_id, reservation_id, idempotency_key, provider, model, agent_mode,
        input_tokens, output_tokens, cached_input_tokens, cache_write_tokens, reasoning_tokens,
        cost_usd, cost_source, price_id, latency_ms, status, error_code, occurred_at,
        cache_write_1h_tokens, web_search_requests, tool_requests, service_tier, byok, organisation_id)
      overriding system value
      select
        k.event_id, p_user_id, p_session_id, p_message_id, p_reservation_id, p_idempotency_key, p_provider, v_model, p_agent_mode,
        p_input_tokens, p_output_tokens, p_cached_input_tokens, p_cache_write_tokens, p_reasoning_tokens,
        p.cost, p.source, p.price_id, p_latency_ms, p_status, p_error_code, v_at,
        p_cache_write_1h_tokens, p_web_search_requests, p_tool_requests, p_service_tier, p_byok, p_organisation_id
      from p cross join k
      returning ev.id, ev.total_tokens, ev.cost_usd, ev.cost_source
    ),
    -- An organisation's request: its daily total and the member's.
    od as (
      insert into public.organisation_usage_daily as d (
        organisation_id, date, provider, model, agent_mode, bucket,
        request_count, success_count, error_count, cancelled_count, unpriced_count,
        input_tokens, output_tokens, cached_input_tokens, cache_write_tokens, reasoning_tokens, total_tokens,
        cost_usd, byok_cost_usd)
      select p_organisation_id, date_trunc('day', v_at, 'UTC'), p_provider, v_model, p_agent_mode, (e.id % 8)::smallint,
        1, (p_status = 'success')::int, (p_status = 'error')::int, (p_status = 'cancelled')::int,
        (e.cost_source = 'unpriced')::int,
        p_input_tokens, p_output_tokens, p_cached_input_tokens, p_cache_write_tokens, p_reasoning_tokens, e.total_tokens,
        coalesce(e.cost_usd, 0), case when p_byok then coalesce(e.cost_usd, 0) else 0 end
      from e
      on conflict (organisation_id, date, provider, model, agent_mode, bucket) do update set
        request_count = d.request_count + 1,
        success_count = d.success_count + excluded.success_count,
        error_count = d.error_count + excluded.error_count,
        cancelled_count = d.cancelled_count + excluded.cancelled_count,
        unpriced_count = d.unpriced_count + excluded.unpriced_count,
        input_tokens = d.input_tokens + excluded.input_tokens,
        output_tokens = d.output_tokens + excluded.output_tokens,
        cached_input_tokens = d.cached_input_tokens + excluded.cached_input_tokens,
        cache_write_tokens = d.cache_write_tokens + excluded.cache_write_tokens,
        reasoning_tokens = d.reasoning_tokens + excluded.reasoning_tokens,
        total_tokens = d.total_tokens + excluded.total_tokens,
        cost_usd = d.cost_usd + excluded.cost_usd,
        byok_cost_usd = d.byok_cost_usd + excluded.byok_cost_usd,
        updated_at = now()
      returning d.request_count
    ),
    md as (
      insert into public.organisation_member_usage_daily as d (
        organisation_id, user_id, date, bucket, request_count, total_tokens, cost_usd, byok_cost_usd)
      select p_organisation_id, p_user_id, date_trunc('day', v_at, 'UTC'), (e.id % 8)::smallint,
        1, e.total_tokens, coalesce(e.cost_usd, 0), case when p_byok then coalesce(e.cost_usd, 0) else 0 end
      from e
      on conflict (organisation_id, user_id, date, bucket) do update set
        request_count = d.request_count + 1,
        total_tokens = d.total_tokens + excluded.total_tokens,
        cost_usd = d.cost_usd + excluded.cost_usd,
        byok_cost_usd = d.byok_cost_usd + excluded.byok_cost_usd,
        updated_at = now()
      returning d.request_count
    ),
    -- Session figures: input counts everything read (incl. cache), output everything written (incl. reasoning).
    s as (
      update public.agent_sessions ss set
        request_count = ss.request_count + 1,
        input_tokens = ss.input_tokens + p_input_tokens + p_cached_input_tokens + p_cache_write_tokens,
        output_tokens = ss.output_tokens + p_output_tokens + p_reasoning_tokens,
        total_tokens = ss.total_tokens + e.total_tokens,
        cost_usd = ss.cost_usd + coalesce(e.cost_usd, 0),
        updated_at = now()
      from e
      where ss.id = p_session_id and ss.user_id = p_user_id
      returning ss.request_count
    ),
    -- The real usage replaces the estimate. A reservation that expired (or was
    -- swept) while the request ran is settled all the same: the request happened.
    r as (
      update public.quota_reservations rr set status = 'settled', resolved_at = now()
      where rr.id = p_reservation_id and rr.user_id = p_user_id and rr.status in ('active', 'expired')
        and exists (select 1 from e)
      returning rr.id
    )
    select e.id, e.total_tokens, e.cost_usd, e.cost_source, (s.request_count is not null)::int, (r.id is not null)::int,
           greatest(od.request_count, md.request_count), s.request_count
      into event_id, total_tokens, cost_usd, cost_source, v_sessions, v_reservations, v_day_requests, v_session_requests
    from e cross join od cross join md left join s on true left join r on true;
  end if;

  if event_id is null then
    if not exists (select 1 from public.profiles pf where pf.id = p_user_id) then
      perform private.bad_input('user_id', 'no such user', '23503');
    end if;
    if not exists (select 1 from public.ai_providers pr where pr.id = p_provider) then
      perform private.bad_input('provider', format('unknown provider %L (add it to ai_providers)', p_provider));
    end if;
    if p_organisation_id is not null and not exists (select 1 from public.organisation_members om
        where om.organisation_id = p_organisation_id and om.user_id = p_user_id) then
      perform private.bad_input('organisation_id', 'is not an organisation of this user', '23503');
    end if;
    -- A retry: hand back the first event, count nothing again. Requests and
    -- corrections share the user's keys; a correction's key buys no request.
    return query
      select ev.id, true, ev.cost_usd, ev.cost_source, ev.total_tokens
      from public.ai_usage_event_keys k
      join public.ai_usage_events ev on ev.id = k.event_id and ev.occurred_at = k.occurred_at
      where k.user_id = p_user_id and k.idempotency_key = p_idempotency_key and ev.kind = 'request';
    if not found then
      perform private.bad_input('idempotency_key', 'is already used by a correction (record_adjustment): a key names one event');
    end if;
    return;
  end if;

  -- Checks that need the writes' outcome; raising undoes every write above.
  -- The lookups sit in inner IFs: a condition holding a subquery is run as a
  -- query (executor start, locks on the table and its indexes) every time it
  -- is evaluated, even when its first operand already decides it.
  -- As above, one condition on the normal path.
  if cost_usd > {{limits.costPerRequestUsd}} or v_day_requests > {{limits.requestsPerTotalRow}}
     or v_session_requests > {{limits.requestsPerTotalRow}}
     or (p_session_id is not null and v_sessions = 0)
     or (p_reservation_id is not null and v_reservations = 0)
     or p_message_id is not null then
    if cost_usd > {{limits.costPerRequestUsd}} then
      perform private.bad_input('cost_usd', {{messages.computedCost}});
    end if;
    if v_day_requests > {{limits.requestsPerTotalRow}} then
      perform private.bad_input('occurred_at', {{messages.requestsPerTotalRow}}, '54000');
    end if;
    if v_session_requests > {{limits.requestsPerTotalRow}} then
      perform private.bad_input('session_id', {{messages.requestsPerTotalRow}}, '54000');
    end if;
    if p_session_id is not null and v_sessions = 0 then
      perform private.bad_input('session_id', 'is not a session of this user', '23503');
    end if;
    if p_reservation_id is not null and v_reservations = 0 then
      if not exists (select 1 from public.quota_reservations rr where rr.id = p_reservation_id and rr.user_id = p_user_id) then
        perform private.bad_input('reservation_id', 'is not a reservation of this user', '23503');
      end if;
    end if;
    if p_message_id is not null then
      if not exists (select 1 from public.agent_messages m where m.id = p_message_id and m.user_id = p_user_id) then
        perform private.bad_input('message_id', 'is not a message of this user', '23503');
      end if;
    end if;
  end if;

  -- Quota alerts: the request takes its share of the distance to the next
  -- alert threshold from its bucket's row (quota_alert_headroom), as its last
  -- write. When it does not fit (or the row is of another day, or missing),
  -- the attempt is undone, so that no row of the user stays locked by it, and
  -- private.quota_alert_check counts exactly and writes the notifications due.
  -- The subtransaction is needed even though a plain UPDATE matching no row
  -- writes nothing: at READ COMMITTED, an UPDATE that meets a row changed by a
  -- concurrent request locks its newest version before checking the WHERE
  -- again, and keeps that lock when the check fails (found is false), so
  -- quota_alert_check would then take the rows out of bucket order (deadlock).
  if p_organisation_id is not null then
    duplicate := false;
    return next;
    return;
  end if;
  begin
    update public.quota_alert_headroom h set
      tokens_left = h.tokens_left - total_tokens,
      cost_left_usd = h.cost_left_usd - case when p_byok then 0 else coalesce(cost_usd, 0) end,
      requests_left = h.requests_left - 1
    where h.user_id = p_user_id and h.bucket = event_id % 8 and v_at >= h.day_start and v_at < h.valid_until
      and h.tokens_left > total_tokens and h.cost_left_usd > case when p_byok then 0 else coalesce(cost_usd, 0) end
      and h.requests_left > 1;
    if not found then
      raise exception using errcode = 'WQA01';
    end if;
  exception when sqlstate 'WQA01' then
    perform private.quota_alert_check(p_user_id);
  end;

  duplicate := false;
  return next;
end;
$$;

comment on function public.record_usage(uuid, text, text, text, public.agent_mode, bigint, bigint, bigint, bigint, bigint, public.usage_status, numeric, integer, uuid, bigint, uuid, text, timestamp with time zone, bigint, integer, integer, public.service_tier, boolean, uuid) is
  'Records one AI request: the event, its daily total, the session figures and the settled reservation, in one transaction. A retried idempotency key returns the first event.';

revoke all on function public.record_usage(uuid, text, text, text, public.agent_mode, bigint, bigint, bigint, bigint, bigint, public.usage_status, numeric, integer, uuid, bigint, uuid, text, timestamp with time zone, bigint, integer, integer, public.service_tier, boolean, uuid) from public, anon, authenticated, service_role;

grant execute on function public.record_usage(uuid, text, text, text, public.agent_mode, bigint, bigint, bigint, bigint, bigint, public.usage_status, numeric, integer, uuid, bigint, uuid, text, timestamp with time zone, bigint, integer, integer, public.service_tier, boolean, uuid) to service_role;
