-- Corrects a recorded request. The raw log is append-only, so a correction
-- is a new event of kind 'adjustment' with signed deltas (tokens of each
-- kind, cost), written through the same totals as the request it corrects:
-- its day's total in the same bucket row, its session's figures. It counts no
-- request. No figure of the request may end up negative once all its
-- corrections are added, so no total can either. Every correction is also
-- written to the audit log with its reason. A retry with the same idempotency
-- key returns the first correction and changes nothing.
--
-- A correction of a request on the user's own key (byok) moves the daily
-- byok_cost_usd with cost_usd, so quotas keep counting no BYOK cost; the
-- 1-hour cache writes of the corrected request stay within its cache writes.
--
-- Concurrent corrections of one request are decided one after another (the
-- request's row is locked), which needs READ COMMITTED: at a stricter level
-- the snapshot would predate the lock and miss a concurrent correction, so
-- the call is refused there. service_role only, with the owner's rights.

create or replace function public.record_adjustment(
  p_event_id bigint,
  p_idempotency_key text,
  p_reason text,
  p_input_tokens bigint default 0,
  p_output_tokens bigint default 0,
  p_cached_input_tokens bigint default 0,
  p_cache_write_tokens bigint default 0,
  p_reasoning_tokens bigint default 0,
  p_cost_usd numeric default 0,
  p_cache_write_1h_tokens bigint default 0,
  p_web_search_requests integer default 0,
  p_tool_requests integer default 0)
returns table (event_id bigint, duplicate boolean, total_tokens bigint, cost_usd numeric)
language plpgsql
set search_path = pg_catalog, pg_temp
security definer
as $$
declare
  v_max constant bigint := {{limits.tokensPerRequest}};
  v_request public.ai_usage_events%rowtype;
  v_sum record;
  v_id bigint;
  v_total bigint;
  v_bad text;
  v_bucket smallint;
  v_adjusts bigint;
begin
  perform private.require_read_committed('record_adjustment');
  if p_event_id is null then perform private.bad_input('event_id', 'is required'); end if;
  if p_idempotency_key is null or char_length(p_idempotency_key) not between 1 and {{limits.idempotencyKeyLength}} then
    perform private.bad_input('idempotency_key', {{messages.idempotencyKey}});
  end if;
  if p_reason is null or char_length(btrim(p_reason)) not between 1 and {{limits.adjustmentReasonLength}} then
    perform private.bad_input('reason', {{messages.adjustmentReason}});
  end if;
  if p_input_tokens is null or p_input_tokens not between -v_max and v_max then
    perform private.bad_input('input_tokens', {{messages.tokenDelta}});
  end if;
  if p_output_tokens is null or p_output_tokens not between -v_max and v_max then
    perform private.bad_input('output_tokens', {{messages.tokenDelta}});
  end if;
  if p_cached_input_tokens is null or p_cached_input_tokens not between -v_max and v_max then
    perform private.bad_input('cached_input_tokens', {{messages.tokenDelta}});
  end if;
  if p_cache_write_tokens is null or p_cache_write_tokens not between -v_max and v_max then
    perform private.bad_input('cache_write_tokens', {{messages.tokenDelta}});
  end if;
  if p_reasoning_tokens is null or p_reasoning_tokens not between -v_max and v_max then
    perform private.bad_input('reasoning_tokens', {{messages.tokenDelta}});
  end if;
  if p_cache_write_1h_tokens is null or p_cache_write_1h_tokens not between -v_max and v_max then
    perform private.bad_input('cache_write_1h_tokens', {{messages.tokenDelta}});
  end if;
  if p_web_search_requests is null or p_web_search_requests not between -{{limits.extrasPerRequest}} and {{limits.extrasPerRequest}} then
    perform private.bad_input('web_search_requests', {{messages.extrasDelta}});
  end if;
  if p_tool_requests is null or p_tool_requests not between -{{limits.extrasPerRequest}} and {{limits.extrasPerRequest}} then
    perform private.bad_input('tool_requests', {{messages.extrasDelta}});
  end if;
  if p_cost_usd is null or p_cost_usd not between -{{limits.costPerRequestUsd}} and {{limits.costPerRequestUsd}} then
    perform private.bad_input('cost_usd', {{messages.costDelta}});
  end if;
  if p_input_tokens = 0 and p_output_tokens = 0 and p_cached_input_tokens = 0 and p_cache_write_tokens = 0
     and p_reasoning_tokens = 0 and p_cost_usd = 0 and p_cache_write_1h_tokens = 0 and p_web_search_requests = 0
     and p_tool_requests = 0 then
    perform private.bad_input('input_tokens', 'a correction must change at least one figure');
  end if;

  select * into v_request from public.ai_usage_events ev where ev.id = p_event_id for update;
  if not found then
    perform private.bad_input('event_id', 'no such usage event', '23503');
  end if;
  if v_request.kind <> 'request' then
    perform private.bad_input('event_id', 'is a correction itself: correct the request it adjusts');
  end if;

  -- A retry: hand back the first correction. The key must have named a
  -- correction of this same request: a request's key, or another request's
  -- correction, is not a retry of this one.
  select ev.id, ev.total_tokens, ev.cost_usd, ev.adjusts_event_id into v_id, v_total, cost_usd, v_adjusts
  from public.ai_usage_event_keys k
  join public.ai_usage_events ev on ev.id = k.event_id and ev.occurred_at = k.occurred_at
  where k.user_id = v_request.user_id and k.idempotency_key = p_idempotency_key;
  if found then
    if v_adjusts is distinct from p_event_id then
      perform private.bad_input('idempotency_key', format('is already used by usage event %s, which is not a correction of event %s',
        v_id, p_event_id));
    end if;
    return query select v_id, true, v_total, cost_usd;
    return;
  end if;

  -- The request's figures with every correction so far and this one.
  select v_request.input_tokens + coalesce(sum(a.input_tokens), 0) + p_input_tokens as input_tokens,
         v_request.output_tokens + coalesce(sum(a.output_tokens), 0) + p_output_tokens as output_tokens,
         v_request.cached_input_tokens + coalesce(sum(a.cached_input_tokens), 0) + p_cached_input_tokens as cached_input_tokens,
         v_request.cache_write_tokens + coalesce(sum(a.cache_write_tokens), 0) + p_cache_write_tokens as cache_write_tokens,
         v_request.reasoning_tokens + coalesce(sum(a.reasoning_tokens), 0) + p_reasoning_tokens as reasoning_tokens,
         coalesce(v_request.cost_usd, 0) + coalesce(sum(a.cost_usd), 0) + p_cost_usd as cost_usd,
         v_request.cache_write_1h_tokens + coalesce(sum(a.cache_write_1h_tokens), 0) + p_cache_write_1h_tokens as cache_write_1h_tokens,
         v_request.web_search_requests + coalesce(sum(a.web_search_requests), 0) + p_web_search_requests as web_search_requests,
         v_request.tool_requests + coalesce(sum(a.tool_requests), 0) + p_tool_requests as tool_requests
    into v_sum
  from public.ai_usage_events a
  where a.adjusts_event_id = p_event_id;
  v_bad := case
    when v_sum.input_tokens not between 0 and v_max then 'input_tokens'
    when v_sum.output_tokens not between 0 and v_max then 'output_tokens'
    when v_sum.cached_input_tokens not between 0 and v_max then 'cached_input_tokens'
    when v_sum.cache_write_tokens not between 0 and v_max then 'cache_write_tokens'
    when v_sum.reasoning_tokens not between 0 and v_max then 'reasoning_tokens'
    when v_sum.cost_usd not between 0 and {{limits.costPerRequestUsd}} then 'cost_usd'
    when v_sum.cache_write_1h_tokens not between 0 and v_sum.cache_write_tokens then 'cache_write_1h_tokens'
    when v_sum.web_search_requests not between 0 and {{limits.extrasPerRequest}} then 'web_search_requests'
    when v_sum.tool_requests not between 0 and {{limits.extrasPerRequest}} then 'tool_requests'
  end;
  if v_bad is not null then
    perform private.bad_input(v_bad, format('the corrected request would have %s, outside what a request may have',
      to_jsonb(v_sum) -> v_bad));
  end if;

  -- The key, then the event under it (in the request's month, with its time).
  insert into public.ai_usage_event_keys as k (user_id, idempotency_key, event_id, occurred_at)
  values (v_request.user_id, p_idempotency_key, nextval('public.ai_usage_events_id_seq'), v_request.occurred_at)
  on conflict (user_id, idempotency_key) do nothing
  returning k.event_id into v_id;
  if v_id is null then
    -- Taken since the lookup above, by a request recorded meanwhile.
    perform private.bad_input('idempotency_key', 'is already used by another usage event: a key names one event');
  end if;
  insert into public.ai_usage_events as ev (
    id, user_id, session_id, idempotency_key, provider, model, agent_mode, kind, adjusts_event_id,
    input_tokens, output_tokens, cached_input_tokens, cache_write_tokens, reasoning_tokens,
    cost_usd, cost_source, status, occurred_at,
    cache_write_1h_tokens, web_search_requests, tool_requests, service_tier, byok, organisation_id)
  overriding system value
  values (
    v_id, v_request.user_id, v_request.session_id, p_idempotency_key, v_request.provider, v_request.model,
    v_request.agent_mode, 'adjustment', p_event_id,
    p_input_tokens, p_output_tokens, p_cached_input_tokens, p_cache_write_tokens, p_reasoning_tokens,
    p_cost_usd, 'given', v_request.status, v_request.occurred_at,
    p_cache_write_1h_tokens, p_web_search_requests, p_tool_requests, v_request.service_tier, v_request.byok, v_request.organisation_id)
  returning ev.id, ev.total_tokens, ev.cost_usd into v_id, v_total, cost_usd;

  -- The request's own daily row (same day, same bucket), so that no row
  -- goes below zero; requests recorded before buckets followed event ids may
  -- sit in another bucket: then the fullest row of their day takes it. It
  -- counts no new request. A request of an organisation is corrected in the
  -- organisation's rows and the member's instead.
  if v_request.organisation_id is not null then
    select d.bucket into v_bucket
    from public.organisation_usage_daily d
    where d.organisation_id = v_request.organisation_id and d.date = date_trunc('day', v_request.occurred_at, 'UTC')
      and d.provider = v_request.provider and d.model = v_request.model and d.agent_mode = v_request.agent_mode
    order by (d.bucket = p_event_id % 8) desc, d.total_tokens desc
    limit 1;
    insert into public.organisation_usage_daily as d (
      organisation_id, date, provider, model, agent_mode, bucket,
      input_tokens, output_tokens, cached_input_tokens, cache_write_tokens, reasoning_tokens, total_tokens, cost_usd, byok_cost_usd)
    values (
      v_request.organisation_id, date_trunc('day', v_request.occurred_at, 'UTC'), v_request.provider, v_request.model,
      v_request.agent_mode, coalesce(v_bucket, (p_event_id % 8)::smallint),
      p_input_tokens, p_output_tokens, p_cached_input_tokens, p_cache_write_tokens, p_reasoning_tokens, v_total, p_cost_usd,
      case when v_request.byok then p_cost_usd else 0 end)
    on conflict (organisation_id, date, provider, model, agent_mode, bucket) do update set
      input_tokens = d.input_tokens + excluded.input_tokens,
      output_tokens = d.output_tokens + excluded.output_tokens,
      cached_input_tokens = d.cached_input_tokens + excluded.cached_input_tokens,
      cache_write_tokens = d.cache_write_tokens + excluded.cache_write_tokens,
      reasoning_tokens = d.reasoning_tokens + excluded.reasoning_tokens,
      total_tokens = d.total_tokens + excluded.total_tokens,
      cost_usd = d.cost_usd + excluded.cost_usd,
      byok_cost_usd = d.byok_cost_usd + excluded.byok_cost_usd,
      updated_at = now();
    select d.bucket into v_bucket
    from public.organisation_member_usage_daily d
    where d.organisation_id = v_request.organisation_id and d.user_id = v_request.user_id
      and d.date = date_trunc('day', v_request.occurred_at, 'UTC')
    order by (d.bucket = p_event_id % 8) desc, d.total_tokens desc
    limit 1;
    insert into public.organisation_member_usage_daily as d (
      organisation_id, user_id, date, bucket, total_tokens, cost_usd, byok_cost_usd)
    values (
      v_request.organisation_id, v_request.user_id, date_trunc('day', v_request.occurred_at, 'UTC'),
      coalesce(v_bucket, (p_event_id % 8)::smallint), v_total, p_cost_usd, case when v_request.byok then p_cost_usd else 0 end)
    on conflict (organisation_id, user_id, date, bucket) do update set
      total_tokens = d.total_tokens + excluded.total_tokens,
      cost_usd = d.cost_usd + excluded.cost_usd,
      byok_cost_usd = d.byok_cost_usd + excluded.byok_cost_usd,
      updated_at = now();
  else
  select d.bucket into v_bucket
  from public.ai_usage_daily d
  where d.user_id = v_request.user_id and d.date = date_trunc('day', v_request.occurred_at, 'UTC')
    and d.provider = v_request.provider and d.model = v_request.model and d.agent_mode = v_request.agent_mode
  order by (d.bucket = p_event_id % 8) desc, d.total_tokens desc
  limit 1;
  insert into public.ai_usage_daily as d (
    user_id, date, provider, model, agent_mode, bucket,
    input_tokens, output_tokens, cached_input_tokens, cache_write_tokens, reasoning_tokens, total_tokens, cost_usd,
    cache_write_1h_tokens, web_search_requests, tool_requests, byok_cost_usd)
  values (
    v_request.user_id, date_trunc('day', v_request.occurred_at, 'UTC'), v_request.provider, v_request.model,
    v_request.agent_mode, coalesce(v_bucket, (p_event_id % 8)::smallint),
    p_input_tokens, p_output_tokens, p_cached_input_tokens, p_cache_write_tokens, p_reasoning_tokens, v_total, p_cost_usd,
    p_cache_write_1h_tokens, p_web_search_requests, p_tool_requests, case when v_request.byok then p_cost_usd else 0 end)
  on conflict (user_id, date, provider, model, agent_mode, bucket) do update set
    input_tokens = d.input_tokens + excluded.input_tokens,
    output_tokens = d.output_tokens + excluded.output_tokens,
    cached_input_tokens = d.cached_input_tokens + excluded.cached_input_tokens,
    cache_write_tokens = d.cache_write_tokens + excluded.cache_write_tokens,
    reasoning_tokens = d.reasoning_tokens + excluded.reasoning_tokens,
    total_tokens = d.total_tokens + excluded.total_tokens,
    cost_usd = d.cost_usd + excluded.cost_usd,
    cache_write_1h_tokens = d.cache_write_1h_tokens + excluded.cache_write_1h_tokens,
    web_search_requests = d.web_search_requests + excluded.web_search_requests,
    tool_requests = d.tool_requests + excluded.tool_requests,
    byok_cost_usd = d.byok_cost_usd + excluded.byok_cost_usd,
    updated_at = now();
  end if;

  update public.agent_sessions ss set
    input_tokens = ss.input_tokens + p_input_tokens + p_cached_input_tokens + p_cache_write_tokens,
    output_tokens = ss.output_tokens + p_output_tokens + p_reasoning_tokens,
    total_tokens = ss.total_tokens + v_total,
    cost_usd = ss.cost_usd + p_cost_usd,
    updated_at = now()
  where ss.id = v_request.session_id;

  perform private.audit(v_request.user_id, 'usage.adjusted', 'ai_usage_events', p_event_id::text,
    jsonb_build_object('input_tokens', v_sum.input_tokens - p_input_tokens, 'output_tokens', v_sum.output_tokens - p_output_tokens,
      'cached_input_tokens', v_sum.cached_input_tokens - p_cached_input_tokens,
      'cache_write_tokens', v_sum.cache_write_tokens - p_cache_write_tokens,
      'reasoning_tokens', v_sum.reasoning_tokens - p_reasoning_tokens, 'cost_usd', v_sum.cost_usd - p_cost_usd,
      'cache_write_1h_tokens', v_sum.cache_write_1h_tokens - p_cache_write_1h_tokens,
      'web_search_requests', v_sum.web_search_requests - p_web_search_requests,
      'tool_requests', v_sum.tool_requests - p_tool_requests),
    jsonb_build_object('input_tokens', v_sum.input_tokens, 'output_tokens', v_sum.output_tokens,
      'cached_input_tokens', v_sum.cached_input_tokens, 'cache_write_tokens', v_sum.cache_write_tokens,
      'reasoning_tokens', v_sum.reasoning_tokens, 'cost_usd', v_sum.cost_usd,
      'cache_write_1h_tokens', v_sum.cache_write_1h_tokens, 'web_search_requests', v_sum.web_search_requests,
      'tool_requests', v_sum.tool_requests,
      'adjustment_event_id', v_id, 'reason', btrim(p_reason)));

  -- Quota alerts, as in record_usage: a correction that adds usage can reach
  -- a threshold; one that removes usage leaves more headroom. It counts no
  -- request. A correction of a request of another day always counts exactly.
  -- Personal usage only.
  if v_request.organisation_id is not null then
    return query select v_id, false, v_total, cost_usd;
    return;
  end if;
  begin
    update public.quota_alert_headroom h set
      tokens_left = h.tokens_left - v_total,
      cost_left_usd = h.cost_left_usd - case when v_request.byok then 0 else p_cost_usd end
    where h.user_id = v_request.user_id and h.bucket = v_id % 8
      and v_request.occurred_at >= h.day_start and v_request.occurred_at < h.valid_until
      and h.tokens_left > v_total and h.cost_left_usd > case when v_request.byok then 0 else p_cost_usd end
      and h.requests_left > 0;
    if not found then
      raise exception using errcode = 'WQA01';
    end if;
  exception when sqlstate 'WQA01' then
    perform private.quota_alert_check(v_request.user_id);
  end;

  return query select v_id, false, v_total, cost_usd;
end;
$$;

comment on function public.record_adjustment(bigint, text, text, bigint, bigint, bigint, bigint, bigint, numeric, bigint, integer, integer) is
  'Corrects a recorded request with signed deltas: a new adjustment event through the same daily total and session, audited with its reason. A retried idempotency key returns the first correction.';

revoke all on function public.record_adjustment(bigint, text, text, bigint, bigint, bigint, bigint, bigint, numeric, bigint, integer, integer) from public, anon, authenticated, service_role;

grant execute on function public.record_adjustment(bigint, text, text, bigint, bigint, bigint, bigint, bigint, numeric, bigint, integer, integer) to service_role;
