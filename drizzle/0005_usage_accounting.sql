-- AI usage accounting: one call records one AI request with everything that
-- depends on it, in one transaction: the event, its daily total, the session
-- figures and the reservation it settles. Errors name the field
-- ("field: rule", SQLSTATE 22023 for bad values, 23503 for missing rows) and
-- leave nothing written.

-- Raises a bad-input error whose message starts with the field's name.
create or replace function private.bad_input(field text, rule text, code text default '22023')
returns void
language plpgsql
volatile
set search_path = ''
as $$
begin
  raise exception using errcode = code, message = field || ': ' || rule, column = field;
end;
$$;
--> statement-breakpoint
revoke execute on function private.bad_input(text, text, text) from public, anon;
--> statement-breakpoint
grant execute on function private.bad_input(text, text, text) to authenticated, service_role;
--> statement-breakpoint
-- Records one AI request. A retry with the same idempotency key returns the
-- first event (duplicate = true) and changes nothing. Daily totals are spread
-- over 8 bucket rows by backend, so one user's concurrent requests do not
-- wait on one row; readers sum over buckets. Built for the hot path: one
-- statement looks up user, provider and price, one statement writes the
-- event, its daily total, the session figures and the reservation.
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
  p_occurred_at timestamptz default null)
returns table (event_id bigint, duplicate boolean, cost_usd numeric, cost_source public.cost_source, total_tokens bigint)
language plpgsql
set search_path = ''
as $$
declare
  v_at timestamptz := coalesce(p_occurred_at, now());
  v_max constant bigint := 100000000;
  v_user_exists boolean;
  v_is_local boolean;
  v_price_id bigint;
  v_in numeric; v_out numeric; v_cached numeric; v_cache_write numeric; v_reasoning numeric;
  v_cost numeric;
  v_source public.cost_source;
  v_id bigint;
  v_stored_cost numeric;
  v_total bigint;
  v_sessions integer;
  v_reservations integer;
begin
  -- Validation: the same rules as the TypeScript schema, for callers that come straight here.
  if p_user_id is null then perform private.bad_input('user_id', 'is required'); end if;
  if p_idempotency_key is null or char_length(p_idempotency_key) not between 1 and 200 then
    perform private.bad_input('idempotency_key', 'must be 1 to 200 characters');
  end if;
  if p_model is null or char_length(p_model) not between 1 and 200 then
    perform private.bad_input('model', 'must be 1 to 200 characters');
  end if;
  if p_agent_mode is null then perform private.bad_input('agent_mode', 'is required'); end if;
  if p_input_tokens is null or p_input_tokens not between 0 and v_max then
    perform private.bad_input('input_tokens', 'must be between 0 and 100000000');
  end if;
  if p_output_tokens is null or p_output_tokens not between 0 and v_max then
    perform private.bad_input('output_tokens', 'must be between 0 and 100000000');
  end if;
  if p_cached_input_tokens is null or p_cached_input_tokens not between 0 and v_max then
    perform private.bad_input('cached_input_tokens', 'must be between 0 and 100000000');
  end if;
  if p_cache_write_tokens is null or p_cache_write_tokens not between 0 and v_max then
    perform private.bad_input('cache_write_tokens', 'must be between 0 and 100000000');
  end if;
  if p_reasoning_tokens is null or p_reasoning_tokens not between 0 and v_max then
    perform private.bad_input('reasoning_tokens', 'must be between 0 and 100000000');
  end if;
  if p_cost_usd < 0 then perform private.bad_input('cost_usd', 'must not be negative'); end if;
  if p_latency_ms < 0 then perform private.bad_input('latency_ms', 'must not be negative'); end if;
  if p_status is null then perform private.bad_input('status', 'is required'); end if;
  if v_at > now() + interval '5 minutes' then perform private.bad_input('occurred_at', 'must not be in the future'); end if;

  -- User, provider and the price in force at the request's time, in one look.
  select exists (select 1 from public.profiles pf where pf.id = p_user_id), pr.is_local,
         mp.id, mp.input_per_mtok, mp.output_per_mtok, mp.cached_input_per_mtok, mp.cache_write_per_mtok, mp.reasoning_per_mtok
    into v_user_exists, v_is_local, v_price_id, v_in, v_out, v_cached, v_cache_write, v_reasoning
  from (select 1) one
  left join public.ai_providers pr on pr.id = p_provider
  left join lateral (
    select * from public.model_prices m
    where m.provider = p_provider and m.model = p_model and m.effective_from <= v_at
    order by m.effective_from desc
    limit 1) mp on p_cost_usd is null and not pr.is_local;
  if not v_user_exists then perform private.bad_input('user_id', 'no such user', '23503'); end if;
  if v_is_local is null then
    perform private.bad_input('provider', format('unknown provider %L (add it to ai_providers)', p_provider));
  end if;

  -- Cost: given by the caller; zero for local models; from the price table; else unknown.
  if p_cost_usd is not null then
    v_cost := p_cost_usd; v_source := 'given'; v_price_id := null;
  elsif v_is_local then
    v_cost := 0; v_source := 'free_local';
  elsif v_price_id is not null then
    v_cost := (p_input_tokens * v_in + p_output_tokens * v_out + p_cached_input_tokens * v_cached
             + p_cache_write_tokens * v_cache_write + p_reasoning_tokens * v_reasoning) / 1000000;
    v_source := 'price_table';
  else
    v_cost := null; v_source := 'unpriced';
  end if;

  -- Every write in one statement. When the key was seen before, the event
  -- insert returns nothing and so do the writes that depend on it.
  with e as (
    insert into public.ai_usage_events as ev (
      user_id, session_id, message_id, reservation_id, idempotency_key, provider, model, agent_mode,
      input_tokens, output_tokens, cached_input_tokens, cache_write_tokens, reasoning_tokens,
      cost_usd, cost_source, price_id, latency_ms, status, error_code, occurred_at)
    values (
      p_user_id, p_session_id, p_message_id, p_reservation_id, p_idempotency_key, p_provider, p_model, p_agent_mode,
      p_input_tokens, p_output_tokens, p_cached_input_tokens, p_cache_write_tokens, p_reasoning_tokens,
      v_cost, v_source, v_price_id, p_latency_ms, p_status, p_error_code, v_at)
    on conflict (user_id, idempotency_key) do nothing
    returning ev.id, ev.total_tokens, ev.cost_usd
  ),
  d as (
    insert into public.ai_usage_daily as d (
      user_id, date, provider, model, agent_mode, bucket,
      request_count, success_count, error_count, cancelled_count, unpriced_count,
      input_tokens, output_tokens, cached_input_tokens, cache_write_tokens, reasoning_tokens, total_tokens,
      cost_usd, latency_ms_sum, latency_count)
    select p_user_id, date_trunc('day', v_at, 'UTC'), p_provider, p_model, p_agent_mode, (pg_backend_pid() % 8)::smallint,
      1, (p_status = 'success')::int, (p_status = 'error')::int, (p_status = 'cancelled')::int,
      (v_source = 'unpriced')::int,
      p_input_tokens, p_output_tokens, p_cached_input_tokens, p_cache_write_tokens, p_reasoning_tokens, e.total_tokens,
      coalesce(e.cost_usd, 0), coalesce(p_latency_ms, 0), (p_latency_ms is not null)::int
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
      updated_at = now()
  ),
  -- Session figures: input counts everything read (incl. cache), output everything written (incl. reasoning).
  s as (
    update public.agent_sessions ss set
      request_count = ss.request_count + 1,
      input_tokens = ss.input_tokens + p_input_tokens + p_cached_input_tokens + p_cache_write_tokens,
      output_tokens = ss.output_tokens + p_output_tokens + p_reasoning_tokens,
      total_tokens = ss.total_tokens + e.total_tokens,
      cost_usd = ss.cost_usd + coalesce(e.cost_usd, 0)
    from e
    where ss.id = p_session_id and ss.user_id = p_user_id
    returning 1
  ),
  -- The real usage replaces the estimate. A reservation that expired (or was
  -- swept) while the request ran is settled all the same: the request happened.
  r as (
    update public.quota_reservations rr set status = 'settled', resolved_at = now()
    where rr.id = p_reservation_id and rr.user_id = p_user_id and rr.status in ('active', 'expired')
      and exists (select 1 from e)
    returning 1
  )
  select e.id, e.total_tokens, e.cost_usd, (select count(*) from s), (select count(*) from r)
    into v_id, v_total, v_stored_cost, v_sessions, v_reservations
  from e;

  if v_id is null then
    -- A retry: hand back the first event, count nothing again.
    return query
      select ev.id, true, ev.cost_usd, ev.cost_source, ev.total_tokens
      from public.ai_usage_events ev
      where ev.user_id = p_user_id and ev.idempotency_key = p_idempotency_key;
    return;
  end if;

  -- Checks that need the writes' outcome; raising undoes every write above.
  if p_session_id is not null and v_sessions = 0 then
    perform private.bad_input('session_id', 'is not a session of this user', '23503');
  end if;
  if p_reservation_id is not null and v_reservations = 0 and not exists (
      select 1 from public.quota_reservations rr where rr.id = p_reservation_id and rr.user_id = p_user_id) then
    perform private.bad_input('reservation_id', 'is not a reservation of this user', '23503');
  end if;
  if p_message_id is not null and not exists (
      select 1 from public.agent_messages m where m.id = p_message_id and m.user_id = p_user_id) then
    perform private.bad_input('message_id', 'is not a message of this user', '23503');
  end if;

  return query select v_id, false, v_stored_cost, v_source, v_total;
end;
$$;
--> statement-breakpoint
revoke execute on function public.record_usage(uuid, text, text, text, public.agent_mode, bigint, bigint, bigint, bigint, bigint, public.usage_status, numeric, integer, uuid, bigint, uuid, text, timestamptz) from public, anon, authenticated;
--> statement-breakpoint
grant execute on function public.record_usage(uuid, text, text, text, public.agent_mode, bigint, bigint, bigint, bigint, bigint, public.usage_status, numeric, integer, uuid, bigint, uuid, text, timestamptz) to service_role;
--> statement-breakpoint
-- A user's usage in one calendar month (UTC), per provider, model and mode,
-- from the daily totals. Runs with the caller's rights: users see their own
-- (admins everyone's), as RLS on ai_usage_daily decides.
create or replace function public.get_monthly_usage(p_user_id uuid default auth.uid(), p_month date default null)
returns table (
  provider text, model text, agent_mode public.agent_mode,
  request_count bigint, success_count bigint, error_count bigint, cancelled_count bigint, unpriced_count bigint,
  input_tokens bigint, output_tokens bigint, cached_input_tokens bigint, cache_write_tokens bigint,
  reasoning_tokens bigint, total_tokens bigint, cost_usd numeric)
language plpgsql
stable
set search_path = ''
as $$
declare
  v_from timestamptz := date_trunc('month', coalesce(p_month, (now() at time zone 'UTC')::date)::timestamp) at time zone 'UTC';
begin
  return query
  select d.provider, d.model, d.agent_mode,
    sum(d.request_count)::bigint, sum(d.success_count)::bigint, sum(d.error_count)::bigint,
    sum(d.cancelled_count)::bigint, sum(d.unpriced_count)::bigint,
    sum(d.input_tokens)::bigint, sum(d.output_tokens)::bigint, sum(d.cached_input_tokens)::bigint,
    sum(d.cache_write_tokens)::bigint, sum(d.reasoning_tokens)::bigint, sum(d.total_tokens)::bigint,
    sum(d.cost_usd)
  from public.ai_usage_daily d
  where d.user_id = p_user_id
    and d.date >= v_from
    and d.date < ((v_from at time zone 'UTC') + interval '1 month') at time zone 'UTC'
  group by d.provider, d.model, d.agent_mode
  order by d.provider, d.model, d.agent_mode;
end;
$$;
--> statement-breakpoint
revoke execute on function public.get_monthly_usage(uuid, date) from public, anon;
--> statement-breakpoint
grant execute on function public.get_monthly_usage(uuid, date) to authenticated, service_role;
--> statement-breakpoint
-- Retention: deletes up to p_batch_size raw events older than p_older_than
-- and returns how many it deleted; call it until it returns 0 (each call is
-- its own short transaction). Daily totals are separate rows and stay exact.
create or replace function public.purge_usage_events(p_older_than interval, p_batch_size integer default 10000)
returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_deleted integer;
begin
  if p_older_than is null or p_older_than < interval '1 day' then
    perform private.bad_input('older_than', 'must be at least 1 day');
  end if;
  if p_batch_size is null or p_batch_size not between 1 and 100000 then
    perform private.bad_input('batch_size', 'must be between 1 and 100000');
  end if;
  delete from public.ai_usage_events e
  where e.id in (
    select x.id from public.ai_usage_events x
    where x.occurred_at < now() - p_older_than
    order by x.occurred_at
    limit p_batch_size);
  get diagnostics v_deleted = row_count;
  return v_deleted;
end;
$$;
--> statement-breakpoint
revoke execute on function public.purge_usage_events(interval, integer) from public, anon, authenticated;
--> statement-breakpoint
grant execute on function public.purge_usage_events(interval, integer) to service_role;
