-- Quotas: effective limits kept from tier + overrides, the current period,
-- quota status, and reservations that never grant more than the limit.

-- user_quotas' plain limit columns are the effective limits: the user's
-- override where set, else the tier's. Computed on every write.
create or replace function private.user_quotas_effective_limits()
returns trigger
language plpgsql
set search_path = ''
as $$
declare
  v_tier public.quota_tiers%rowtype;
begin
  select * into v_tier from public.quota_tiers t where t.id = new.tier_id;
  if not found then
    perform private.bad_input('tier_id', format('unknown tier %L', new.tier_id), '23503');
  end if;
  new.monthly_token_limit := coalesce(new.monthly_token_limit_override, v_tier.monthly_token_limit);
  new.monthly_cost_limit_usd := coalesce(new.monthly_cost_limit_usd_override, v_tier.monthly_cost_limit_usd);
  new.daily_request_limit := coalesce(new.daily_request_limit_override, v_tier.daily_request_limit);
  new.soft_limit_percent := coalesce(new.soft_limit_percent_override, v_tier.soft_limit_percent);
  return new;
end;
$$;
--> statement-breakpoint
revoke execute on function private.user_quotas_effective_limits() from public, anon, authenticated;
--> statement-breakpoint
create trigger user_quotas_effective_limits before insert or update on public.user_quotas
  for each row execute function private.user_quotas_effective_limits();
--> statement-breakpoint
-- A tier's new limits reach every user on it (the trigger above recomputes).
create or replace function private.quota_tiers_propagate_limits()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  update public.user_quotas q set tier_id = q.tier_id where q.tier_id = new.id;
  return null;
end;
$$;
--> statement-breakpoint
revoke execute on function private.quota_tiers_propagate_limits() from public, anon, authenticated;
--> statement-breakpoint
create trigger quota_tiers_propagate_limits
  after update of monthly_token_limit, monthly_cost_limit_usd, daily_request_limit, soft_limit_percent
  on public.quota_tiers
  for each row execute function private.quota_tiers_propagate_limits();
--> statement-breakpoint
-- Start of the quota period containing p_at: the last p_reset_day (1..28) of
-- a month at or before p_at, midnight UTC. Reset day 1 is the calendar month.
create or replace function private.quota_period_start(p_reset_day integer, p_at timestamptz)
returns timestamptz
language plpgsql
immutable
set search_path = ''
as $$
declare
  v_local timestamp := p_at at time zone 'UTC';
  v_start timestamp := date_trunc('month', v_local) + make_interval(days => p_reset_day - 1);
begin
  if v_start > v_local then
    v_start := date_trunc('month', v_local) - interval '1 month' + make_interval(days => p_reset_day - 1);
  end if;
  return v_start at time zone 'UTC';
end;
$$;
--> statement-breakpoint
revoke execute on function private.quota_period_start(integer, timestamptz) from public, anon;
--> statement-breakpoint
grant execute on function private.quota_period_start(integer, timestamptz) to authenticated, service_role;
--> statement-breakpoint
-- Quota status for the current period: limits, used, reserved, remaining,
-- percentages and soft/hard flags. Reads only the period's daily rows and the
-- user's active reservations, so it costs the same whatever the history.
-- Runs with the caller's rights: a user gets their own row and nothing for
-- anybody else (RLS), service_role any user's. plpgsql so that its plans are
-- kept between calls (a SQL function with its own search_path is planned anew
-- on every call).
create or replace function public.get_quota_status(p_user_id uuid default auth.uid())
returns table (
  user_id uuid, tier_id text, period_start timestamptz, period_end timestamptz,
  monthly_token_limit bigint, tokens_used bigint, tokens_reserved bigint, tokens_remaining bigint, tokens_percent numeric,
  monthly_cost_limit_usd numeric, cost_used_usd numeric, cost_reserved_usd numeric, cost_remaining_usd numeric, cost_percent numeric,
  daily_request_limit integer, requests_today bigint, requests_reserved bigint, requests_remaining bigint,
  soft_limit_percent smallint, soft_limit_reached boolean, hard_limit_reached boolean)
language plpgsql
stable
set search_path = ''
-- Plan each lookup for the user at hand: a plan cached for "any user" is
-- priced from averages that a few very busy users skew.
set plan_cache_mode = force_custom_plan
as $$
declare
  q public.user_quotas%rowtype;
  v_start timestamptz;
  v_today timestamptz := date_trunc('day', now(), 'UTC');
  v_tokens bigint;
  v_cost numeric;
  v_requests bigint;
  v_held_tokens bigint;
  v_held_cost numeric;
  v_held_requests bigint;
begin
  select * into q from public.user_quotas uq where uq.user_id = p_user_id;
  if not found then
    return;
  end if;
  v_start := private.quota_period_start(q.reset_day, now());

  select coalesce(sum(d.total_tokens), 0)::bigint, coalesce(sum(d.cost_usd), 0),
         coalesce(sum(d.request_count) filter (where d.date = v_today), 0)::bigint
    into v_tokens, v_cost, v_requests
  from public.ai_usage_daily d
  where d.user_id = p_user_id and d.date >= v_start;

  select coalesce(sum(r.estimated_tokens), 0)::bigint, coalesce(sum(r.estimated_cost_usd), 0), count(*)::bigint
    into v_held_tokens, v_held_cost, v_held_requests
  from public.quota_reservations r
  where r.user_id = p_user_id and r.status = 'active' and r.expires_at > now();

  return query select
    q.user_id, q.tier_id, v_start, ((v_start at time zone 'UTC') + interval '1 month') at time zone 'UTC',
    q.monthly_token_limit, v_tokens, v_held_tokens,
    greatest(q.monthly_token_limit - v_tokens - v_held_tokens, 0),
    case when q.monthly_token_limit > 0 then round(100.0 * (v_tokens + v_held_tokens) / q.monthly_token_limit, 2) else 100 end,
    q.monthly_cost_limit_usd, v_cost, v_held_cost,
    greatest(q.monthly_cost_limit_usd - v_cost - v_held_cost, 0),
    case when q.monthly_cost_limit_usd > 0 then round(100.0 * (v_cost + v_held_cost) / q.monthly_cost_limit_usd, 2) else 100 end,
    q.daily_request_limit, v_requests, v_held_requests,
    greatest(q.daily_request_limit - v_requests - v_held_requests, 0),
    q.soft_limit_percent,
    (v_tokens + v_held_tokens) * 100 >= q.monthly_token_limit * q.soft_limit_percent
      or (v_cost + v_held_cost) * 100 >= q.monthly_cost_limit_usd * q.soft_limit_percent
      or (v_requests + v_held_requests) * 100 >= q.daily_request_limit::bigint * q.soft_limit_percent,
    v_tokens + v_held_tokens >= q.monthly_token_limit
      or v_cost + v_held_cost >= q.monthly_cost_limit_usd
      or v_requests + v_held_requests >= q.daily_request_limit;
end;
$$;
--> statement-breakpoint
revoke execute on function public.get_quota_status(uuid) from public, anon;
--> statement-breakpoint
grant execute on function public.get_quota_status(uuid) to authenticated, service_role;
--> statement-breakpoint
-- Holds quota for a request about to be made. Returns granted or refused (with
-- the limit that refused it) as data, never as an exception. The user's quota
-- row is locked for the decision, so concurrent reservations of one user are
-- decided one after another and never grant more than the limit together.
-- A retry with the same key returns the first reservation.
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
set search_path = ''
set plan_cache_mode = force_custom_plan
as $$
declare
  v_existing public.quota_reservations%rowtype;
  v_status record;
  v_id uuid;
  v_expires timestamptz;
begin
  if p_user_id is null then perform private.bad_input('user_id', 'is required'); end if;
  if p_idempotency_key is null or char_length(p_idempotency_key) not between 1 and 200 then
    perform private.bad_input('idempotency_key', 'must be 1 to 200 characters');
  end if;
  if p_estimated_tokens is null or p_estimated_tokens not between 0 and 100000000 then
    perform private.bad_input('estimated_tokens', 'must be between 0 and 100000000');
  end if;
  if p_estimated_cost_usd is null or p_estimated_cost_usd < 0 then
    perform private.bad_input('estimated_cost_usd', 'must not be negative');
  end if;
  if p_ttl is null or p_ttl < interval '1 second' or p_ttl > interval '1 day' then
    perform private.bad_input('ttl', 'must be between 1 second and 1 day');
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
    return query select v_existing.status in ('active', 'settled'), 'duplicate'::text, v_existing.id, v_existing.expires_at,
      v_status.tokens_remaining, v_status.cost_remaining_usd, v_status.requests_remaining;
    return;
  end if;

  select * into v_status from public.get_quota_status(p_user_id);
  -- A limit already used up refuses even an estimate of zero.
  if v_status.tokens_used + v_status.tokens_reserved + p_estimated_tokens > v_status.monthly_token_limit
     or v_status.tokens_used + v_status.tokens_reserved >= v_status.monthly_token_limit then
    return query select false, 'monthly_token_limit'::text, null::uuid, null::timestamptz,
      v_status.tokens_remaining, v_status.cost_remaining_usd, v_status.requests_remaining;
    return;
  end if;
  if v_status.cost_used_usd + v_status.cost_reserved_usd + p_estimated_cost_usd > v_status.monthly_cost_limit_usd
     or v_status.cost_used_usd + v_status.cost_reserved_usd >= v_status.monthly_cost_limit_usd then
    return query select false, 'monthly_cost_limit_usd'::text, null::uuid, null::timestamptz,
      v_status.tokens_remaining, v_status.cost_remaining_usd, v_status.requests_remaining;
    return;
  end if;
  if v_status.requests_today + v_status.requests_reserved + 1 > v_status.daily_request_limit then
    return query select false, 'daily_request_limit'::text, null::uuid, null::timestamptz,
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
--> statement-breakpoint
revoke execute on function public.reserve_quota(uuid, text, bigint, numeric, interval) from public, anon, authenticated;
--> statement-breakpoint
grant execute on function public.reserve_quota(uuid, text, bigint, numeric, interval) to service_role;
--> statement-breakpoint
-- Gives a reservation back when the request failed before it was recorded.
-- True when it was active; false when it had already ended (settled, released, expired).
create or replace function public.release_quota(p_user_id uuid, p_reservation_id uuid)
returns boolean
language plpgsql
set search_path = ''
as $$
begin
  update public.quota_reservations r set status = 'released', resolved_at = now()
  where r.id = p_reservation_id and r.user_id = p_user_id and r.status = 'active';
  if found then return true; end if;
  if not exists (select 1 from public.quota_reservations r where r.id = p_reservation_id and r.user_id = p_user_id) then
    perform private.bad_input('reservation_id', 'is not a reservation of this user', '23503');
  end if;
  return false;
end;
$$;
--> statement-breakpoint
revoke execute on function public.release_quota(uuid, uuid) from public, anon, authenticated;
--> statement-breakpoint
grant execute on function public.release_quota(uuid, uuid) to service_role;
--> statement-breakpoint
-- Marks reservations past their time as expired (they already stopped
-- counting when they expired; this tidies their status). Returns how many.
create or replace function public.expire_quota_reservations()
returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_count integer;
begin
  update public.quota_reservations r set status = 'expired', resolved_at = now()
  where r.status = 'active' and r.expires_at <= now();
  get diagnostics v_count = row_count;
  return v_count;
end;
$$;
--> statement-breakpoint
revoke execute on function public.expire_quota_reservations() from public, anon, authenticated;
--> statement-breakpoint
grant execute on function public.expire_quota_reservations() to service_role;
