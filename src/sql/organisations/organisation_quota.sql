-- An organisation's quota for the current period (the calendar month, UTC)
-- and one member's share of it: limits (the tier's, or billing's
-- overrides), what its active grants add, use, holds and what remains; the
-- member's caps (their own, else the organisation's default; null is none),
-- their use and holds; and the per-minute limits. Reads only the period's
-- daily rows, active reservations and grants: the same cost whatever the
-- history. private.organisation_quota computes it for reserve_quota;
-- get_organisation_quota_status hands it to the API.

create or replace function private.organisation_quota(p_organisation_id uuid, p_user_id uuid)
returns table (
  organisation_id uuid, tier_id text, period_start timestamptz, period_end timestamptz,
  monthly_token_limit bigint, grant_tokens bigint, tokens_used bigint, tokens_reserved bigint, tokens_remaining bigint,
  monthly_cost_limit_usd numeric, grant_cost_usd numeric, cost_used_usd numeric, cost_reserved_usd numeric, cost_remaining_usd numeric,
  daily_request_limit integer, requests_today bigint, requests_reserved bigint, requests_remaining bigint,
  soft_limit_percent smallint, soft_limit_reached boolean, hard_limit_reached boolean,
  member_user_id uuid, member_role public.organisation_role,
  member_token_cap bigint, member_tokens_used bigint, member_tokens_reserved bigint, member_tokens_remaining bigint,
  member_cost_cap_usd numeric, member_cost_used_usd numeric, member_cost_reserved_usd numeric, member_cost_remaining_usd numeric,
  requests_per_minute integer, tokens_per_minute bigint)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
set plan_cache_mode = force_custom_plan
as $$
declare
  o record;
  v_start timestamptz := date_trunc('month', now(), 'UTC');
  v_today timestamptz := date_trunc('day', now(), 'UTC');
  v_max constant numeric := {{limits.reportedCountMax}};
  v_tokens numeric; v_cost numeric; v_requests numeric;
  v_held_tokens numeric; v_held_cost numeric; v_held_requests numeric;
  v_grant_tokens numeric; v_grant_cost numeric;
  v_m_tokens numeric; v_m_cost numeric; v_m_held_tokens numeric; v_m_held_cost numeric;
  v_token_allowance numeric; v_cost_allowance numeric;
begin
  select og.id, og.tier_id,
         coalesce(og.monthly_token_limit_override, t.monthly_token_limit) as token_limit,
         coalesce(og.monthly_cost_limit_usd_override, t.monthly_cost_limit_usd) as cost_limit,
         t.daily_request_limit as request_limit,
         coalesce(og.soft_limit_percent_override, t.soft_limit_percent) as soft_percent,
         coalesce(og.requests_per_minute_override, t.requests_per_minute) as rpm,
         coalesce(og.tokens_per_minute_override, t.tokens_per_minute) as tpm,
         m.role, coalesce(m.token_cap_override, og.member_token_cap) as token_cap,
         coalesce(m.cost_cap_usd_override, og.member_cost_cap_usd) as cost_cap
    into o
  from public.organisations og
  join public.quota_tiers t on t.id = og.tier_id
  left join public.organisation_members m on m.organisation_id = og.id and m.user_id = p_user_id
  where og.id = p_organisation_id;
  if not found then
    return;
  end if;

  select coalesce(sum(d.total_tokens), 0), coalesce(sum(d.cost_usd - d.byok_cost_usd), 0),
         coalesce(sum(d.request_count) filter (where d.date = v_today), 0)
    into v_tokens, v_cost, v_requests
  from public.organisation_usage_daily d
  where d.organisation_id = p_organisation_id and d.date >= v_start;

  select coalesce(sum(r.estimated_tokens), 0), coalesce(sum(r.estimated_cost_usd), 0), count(*),
         coalesce(sum(r.estimated_tokens) filter (where r.user_id = p_user_id), 0),
         coalesce(sum(r.estimated_cost_usd) filter (where r.user_id = p_user_id), 0)
    into v_held_tokens, v_held_cost, v_held_requests, v_m_held_tokens, v_m_held_cost
  from public.quota_reservations r
  where r.organisation_id = p_organisation_id and r.status = 'active' and r.expires_at > now();

  select coalesce(sum(d.total_tokens), 0), coalesce(sum(d.cost_usd - d.byok_cost_usd), 0)
    into v_m_tokens, v_m_cost
  from public.organisation_member_usage_daily d
  where d.organisation_id = p_organisation_id and d.user_id = p_user_id and d.date >= v_start;

  select coalesce(sum(g.tokens), 0), coalesce(sum(g.cost_usd), 0) into v_grant_tokens, v_grant_cost
  from public.quota_grants g
  where g.organisation_id = p_organisation_id and g.expires_at > now() and g.starts_at <= now() and g.voided_at is null;

  v_token_allowance := o.token_limit + v_grant_tokens;
  v_cost_allowance := o.cost_limit + v_grant_cost;

  return query select
    o.id, o.tier_id, v_start, ((v_start at time zone 'UTC') + interval '1 month') at time zone 'UTC',
    o.token_limit::bigint, least(v_grant_tokens, v_max)::bigint, least(v_tokens, v_max)::bigint, least(v_held_tokens, v_max)::bigint,
    least(greatest(v_token_allowance - v_tokens - v_held_tokens, 0), v_max)::bigint,
    o.cost_limit::numeric, v_grant_cost, v_cost, v_held_cost, greatest(v_cost_allowance - v_cost - v_held_cost, 0),
    o.request_limit::integer, least(v_requests, v_max)::bigint, least(v_held_requests, v_max)::bigint,
    greatest(o.request_limit - v_requests - v_held_requests, 0)::bigint,
    o.soft_percent::smallint,
    (v_tokens + v_held_tokens) * 100 >= v_token_allowance * o.soft_percent
      or (v_cost + v_held_cost) * 100 >= v_cost_allowance * o.soft_percent
      or (v_requests + v_held_requests) * 100 >= o.request_limit::numeric * o.soft_percent,
    v_tokens + v_held_tokens >= v_token_allowance
      or v_cost + v_held_cost >= v_cost_allowance
      or v_requests + v_held_requests >= o.request_limit,
    case when o.role is not null then p_user_id end, o.role,
    o.token_cap::bigint, least(v_m_tokens, v_max)::bigint, least(v_m_held_tokens, v_max)::bigint,
    case when o.token_cap is not null then greatest(o.token_cap - v_m_tokens - v_m_held_tokens, 0)::bigint end,
    o.cost_cap::numeric, v_m_cost, v_m_held_cost,
    case when o.cost_cap is not null then greatest(o.cost_cap - v_m_cost - v_m_held_cost, 0) end,
    o.rpm::integer, o.tpm::bigint;
end;
$$;

comment on function private.organisation_quota(uuid, uuid) is
  'An organisation''s quota for the current period and one member''s share of it (no access check: see get_organisation_quota_status).';

revoke all on function private.organisation_quota(uuid, uuid) from public, anon, authenticated, service_role;

-- The API's view of it: a member reads their organisation's figures and
-- their own share; owners and admins any member's; service_role anybody's.
-- Nothing for anybody else.
create or replace function private.get_organisation_quota_status(p_organisation_id uuid, p_user_id uuid default auth.uid())
returns table (
  organisation_id uuid, tier_id text, period_start timestamptz, period_end timestamptz,
  monthly_token_limit bigint, grant_tokens bigint, tokens_used bigint, tokens_reserved bigint, tokens_remaining bigint,
  monthly_cost_limit_usd numeric, grant_cost_usd numeric, cost_used_usd numeric, cost_reserved_usd numeric, cost_remaining_usd numeric,
  daily_request_limit integer, requests_today bigint, requests_reserved bigint, requests_remaining bigint,
  soft_limit_percent smallint, soft_limit_reached boolean, hard_limit_reached boolean,
  member_user_id uuid, member_role public.organisation_role,
  member_token_cap bigint, member_tokens_used bigint, member_tokens_reserved bigint, member_tokens_remaining bigint,
  member_cost_cap_usd numeric, member_cost_used_usd numeric, member_cost_reserved_usd numeric, member_cost_remaining_usd numeric,
  requests_per_minute integer, tokens_per_minute bigint)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_caller uuid := (select auth.uid());
  v_role public.organisation_role;
begin
  if v_caller is null then
    -- No signed-in user: service_role (or the database's own roles) only.
    if current_setting('role', true) in ('anon', 'authenticated') then
      return;
    end if;
  else
    select m.role into v_role from public.organisation_members m
    where m.organisation_id = p_organisation_id and m.user_id = v_caller;
    if v_role is null or (p_user_id is distinct from v_caller and v_role = 'member') then
      return;
    end if;
  end if;
  return query select * from private.organisation_quota(p_organisation_id, p_user_id);
end;
$$;

comment on function private.get_organisation_quota_status(uuid, uuid) is
  'An organisation''s quota for the current period and a member''s share: members their own, owners and admins any member''s.';

revoke all on function private.get_organisation_quota_status(uuid, uuid) from public, anon, authenticated, service_role;

grant execute on function private.get_organisation_quota_status(uuid, uuid) to authenticated, service_role;

-- Each active grant of a user (personal) or an organisation, with what is
-- left of it: use beyond the base limit of the period, holds included,
-- draws on the grants highest priority first, then the one expiring first.
-- Users read their own; owners and admins their organisation's;
-- service_role any.
create or replace function private.get_grant_balances(p_user_id uuid default auth.uid(), p_organisation_id uuid default null)
returns table (
  grant_id uuid, priority smallint, reason text, starts_at timestamptz, expires_at timestamptz,
  tokens bigint, tokens_remaining bigint, cost_usd numeric, cost_remaining_usd numeric)
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_caller uuid := (select auth.uid());
  v_over_tokens numeric;
  v_over_cost numeric;
begin
  if v_caller is null and current_setting('role', true) in ('anon', 'authenticated') then
    return;
  end if;
  if p_organisation_id is not null then
    if v_caller is not null and not exists (select 1 from public.organisation_members m
        where m.organisation_id = p_organisation_id and m.user_id = v_caller and m.role in ('owner', 'admin')) then
      return;
    end if;
    select s.tokens_used::numeric + s.tokens_reserved - s.monthly_token_limit,
           s.cost_used_usd + s.cost_reserved_usd - s.monthly_cost_limit_usd
      into v_over_tokens, v_over_cost
    from private.organisation_quota(p_organisation_id, null) s;
  else
    if v_caller is not null and p_user_id is distinct from v_caller then
      return;
    end if;
    select s.tokens_used::numeric + s.tokens_reserved - s.monthly_token_limit,
           s.cost_used_usd + s.cost_reserved_usd - s.monthly_cost_limit_usd
      into v_over_tokens, v_over_cost
    from public.get_quota_status(p_user_id) s;
  end if;
  if not found then
    return;
  end if;

  return query
    select g.id, g.priority, g.reason, g.starts_at, g.expires_at,
      g.tokens,
      (g.tokens - least(g.tokens, greatest(greatest(v_over_tokens, 0)
        - coalesce(sum(g.tokens) over w, 0), 0)))::bigint,
      g.cost_usd,
      g.cost_usd - least(g.cost_usd, greatest(greatest(v_over_cost, 0) - coalesce(sum(g.cost_usd) over w, 0), 0))
    from public.quota_grants g
    where (case when p_organisation_id is null then g.user_id = p_user_id else g.organisation_id = p_organisation_id end)
      and g.expires_at > now() and g.starts_at <= now() and g.voided_at is null
    window w as (order by g.priority desc, g.expires_at, g.id rows between unbounded preceding and 1 preceding)
    order by g.priority desc, g.expires_at, g.id;
end;
$$;

comment on function private.get_grant_balances(uuid, uuid) is
  'The active grants of a user (or of an organisation) with what is left of each this period.';

revoke all on function private.get_grant_balances(uuid, uuid) from public, anon, authenticated, service_role;

grant execute on function private.get_grant_balances(uuid, uuid) to authenticated, service_role;
