-- Holds quota for a request about to be made. Returns granted or refused (with
-- the limit that refused it) as data, never as an exception; a refusal is
-- also told, once per limit and period, as a 'limit_refused' quota
-- notification. The user's quota row is locked for the decision, so
-- concurrent reservations of one user are decided one after another and
-- never grant more than the limit together.
-- A retry with the same key returns the first reservation while it still
-- holds; once it was settled, released or expired the key is spent, and
-- asking again is refused (reason 'key_already_used'): a key never buys a
-- second request. Reservations are derived rows: only the quota functions
-- write them, so this runs with its owner's rights and only service_role may
-- call it.
--
-- The decision needs READ COMMITTED (private.require_read_committed): under
-- REPEATABLE READ or SERIALIZABLE the snapshot predates the lock, and
-- concurrent holds could together pass the limit, so those levels are refused.
-- Sums are compared in numeric, so no total can overflow the comparison.

create or replace function public.reserve_quota(
  p_user_id uuid,
  p_idempotency_key text,
  p_estimated_tokens bigint,
  p_estimated_cost_usd numeric default 0,
  p_ttl interval default interval '5 minutes')
returns table (
  granted boolean, reason text, reservation_id uuid, expires_at timestamptz,
  tokens_remaining bigint, cost_remaining_usd numeric, requests_remaining bigint)
language plpgsql
set search_path = pg_catalog, pg_temp
set plan_cache_mode = force_custom_plan
security definer
as $$
declare
  v_existing public.quota_reservations%rowtype;
  v_status record;
  v_id uuid;
  v_expires timestamptz;
  v_reason text;
  -- What a refusal tells: limit, period, use plus holds, the limit.
  v_refused record;
begin
  perform private.require_read_committed('reserve_quota');
  if p_user_id is null then perform private.bad_input('user_id', 'is required'); end if;
  if p_idempotency_key is null or char_length(p_idempotency_key) not between 1 and {{limits.idempotencyKeyLength}} then
    perform private.bad_input('idempotency_key', {{messages.idempotencyKey}});
  end if;
  if p_estimated_tokens is null or p_estimated_tokens not between 0 and {{limits.tokensPerRequest}} then
    perform private.bad_input('estimated_tokens', {{messages.tokens}});
  end if;
  if p_estimated_cost_usd is null or p_estimated_cost_usd not between 0 and {{limits.costPerRequestUsd}} then
    perform private.bad_input('estimated_cost_usd', {{messages.cost}});
  end if;
  if p_ttl is null or p_ttl < make_interval(secs => {{limits.reservationTtlMinSeconds}})
     or p_ttl > make_interval(secs => {{limits.reservationTtlMaxSeconds}}) then
    perform private.bad_input('ttl', {{messages.reservationTtl}});
  end if;

  -- One decision at a time per user.
  perform 1 from public.user_quotas uq where uq.user_id = p_user_id for update;
  if not found then
    perform private.bad_input('user_id', 'has no quota (no such user)', '23503');
  end if;

  select * into v_existing from public.quota_reservations r
  where r.user_id = p_user_id and r.idempotency_key = p_idempotency_key;
  if found then
    select * into v_status from public.get_quota_status(p_user_id);
    if v_existing.status = 'active' and v_existing.expires_at > now() then
      return query select true, 'duplicate'::text, v_existing.id, v_existing.expires_at,
        v_status.tokens_remaining, v_status.cost_remaining_usd, v_status.requests_remaining;
    else
      return query select false, 'key_already_used'::text, v_existing.id, v_existing.expires_at,
        v_status.tokens_remaining, v_status.cost_remaining_usd, v_status.requests_remaining;
    end if;
    return;
  end if;

  select * into v_status from public.get_quota_status(p_user_id);
  -- A limit already used up refuses even an estimate of zero. The first limit
  -- that refuses names the refusal.
  if v_status.tokens_used::numeric + v_status.tokens_reserved + p_estimated_tokens > v_status.monthly_token_limit
     or v_status.tokens_used::numeric + v_status.tokens_reserved >= v_status.monthly_token_limit then
    v_reason := 'monthly_token_limit';
    select 'monthly_tokens' as quota_limit, v_status.period_start as period_start,
      v_status.tokens_used::numeric + v_status.tokens_reserved as used, v_status.monthly_token_limit::numeric as limit_value
      into v_refused;
  elsif v_status.cost_used_usd + v_status.cost_reserved_usd + p_estimated_cost_usd > v_status.monthly_cost_limit_usd
     or v_status.cost_used_usd + v_status.cost_reserved_usd >= v_status.monthly_cost_limit_usd then
    v_reason := 'monthly_cost_limit_usd';
    select 'monthly_cost_usd' as quota_limit, v_status.period_start as period_start,
      v_status.cost_used_usd + v_status.cost_reserved_usd as used, v_status.monthly_cost_limit_usd as limit_value
      into v_refused;
  elsif v_status.requests_today::numeric + v_status.requests_reserved + 1 > v_status.daily_request_limit then
    v_reason := 'daily_request_limit';
    select 'daily_requests' as quota_limit, date_trunc('day', now(), 'UTC') as period_start,
      v_status.requests_today::numeric + v_status.requests_reserved as used, v_status.daily_request_limit::numeric as limit_value
      into v_refused;
  end if;
  if v_reason is not null then
    -- Told once per limit and period (the key makes every further refusal a no-op).
    insert into public.quota_notifications (user_id, kind, quota_limit, threshold_percent, period_start, used, limit_value)
    values (p_user_id, 'limit_refused', v_refused.quota_limit::public.quota_limit, 100, v_refused.period_start,
      trim_scale(v_refused.used), trim_scale(v_refused.limit_value))
    on conflict (user_id, quota_limit, kind, threshold_percent, period_start) do nothing;
    return query select false, v_reason, null::uuid, null::timestamptz,
      v_status.tokens_remaining, v_status.cost_remaining_usd, v_status.requests_remaining;
    return;
  end if;

  v_expires := now() + p_ttl;
  insert into public.quota_reservations (user_id, idempotency_key, estimated_tokens, estimated_cost_usd, expires_at)
  values (p_user_id, p_idempotency_key, p_estimated_tokens, p_estimated_cost_usd, v_expires)
  returning id into v_id;

  return query select true, 'granted'::text, v_id, v_expires,
    v_status.tokens_remaining - p_estimated_tokens,
    greatest(v_status.cost_remaining_usd - p_estimated_cost_usd, 0),
    v_status.requests_remaining - 1;
end;
$$;

comment on function public.reserve_quota(uuid, text, bigint, numeric, interval) is
  'Holds quota before an AI request: granted, or refused by the limit named in reason. Never grants more than the limit under concurrency.';

revoke all on function public.reserve_quota(uuid, text, bigint, numeric, interval) from public, anon, authenticated, service_role;

grant execute on function public.reserve_quota(uuid, text, bigint, numeric, interval) to service_role;
