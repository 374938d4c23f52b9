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
set plan_cache_mode = auto
as $$
declare
  v_start timestamptz := date_trunc('month', now(), 'UTC');
  -- Both bounds of the period: the generic plan is then estimated as the
  -- narrow index range it is (see get_quota_status).
  v_end timestamptz := ((date_trunc('month', now(), 'UTC') at time zone 'UTC') + interval '1 month') at time zone 'UTC';
  v_today timestamptz := date_trunc('day', now(), 'UTC');
  v_max constant numeric := {{limits.reportedCountMax}};
begin
  -- One statement: the organisation with its tier and the member, and four
  -- sums (its month, its holds, the member's month, its grants), each over
  -- an index range of the current period only. One statement is planned and
  -- started once per call; five would be five times.
  return query
  with o as (
    select og.id, og.tier_id,
           coalesce(og.monthly_token_limit_override, t.monthly_token_limit)::numeric as token_limit,
           coalesce(og.monthly_cost_limit_usd_override, t.monthly_cost_limit_usd) as cost_limit,
           t.daily_request_limit::numeric as request_limit,
           coalesce(og.soft_limit_percent_override, t.soft_limit_percent) as soft_percent,
           coalesce(og.requests_per_minute_override, t.requests_per_minute) as rpm,
           coalesce(og.tokens_per_minute_override, t.tokens_per_minute) as tpm,
           m.role, coalesce(m.token_cap_override, og.member_token_cap)::numeric as token_cap,
           coalesce(m.cost_cap_usd_override, og.member_cost_cap_usd) as cost_cap
    from public.organisations og
    join public.quota_tiers t on t.id = og.tier_id
    left join public.organisation_members m on m.organisation_id = og.id and m.user_id = p_user_id
    where og.id = p_organisation_id),
  f as (
    select o.*,
      u.tokens, u.cost, u.requests, h.tokens as held_tokens, h.cost as held_cost, h.requests as held_requests,
      h.member_tokens as m_held_tokens, h.member_cost as m_held_cost, mu.tokens as m_tokens, mu.cost as m_cost,
      g.tokens as grant_tokens, g.cost as grant_cost,
      o.token_limit + g.tokens as token_allowance, o.cost_limit + g.cost as cost_allowance
    from o,
      (select coalesce(sum(d.total_tokens), 0) as tokens, coalesce(sum(d.cost_usd - d.byok_cost_usd), 0) as cost,
              coalesce(sum(d.request_count) filter (where d.date = v_today), 0) as requests
       from public.organisation_usage_daily d
       where d.organisation_id = p_organisation_id and d.date >= v_start and d.date < v_end) u,
      (select coalesce(sum(r.estimated_tokens), 0) as tokens, coalesce(sum(r.estimated_cost_usd), 0) as cost, count(*) as requests,
              coalesce(sum(r.estimated_tokens) filter (where r.user_id = p_user_id), 0) as member_tokens,
              coalesce(sum(r.estimated_cost_usd) filter (where r.user_id = p_user_id), 0) as member_cost
       from public.quota_reservations r
       where r.organisation_id = p_organisation_id and r.status = 'active' and r.expires_at > now()) h,
      (select coalesce(sum(d.total_tokens), 0) as tokens, coalesce(sum(d.cost_usd - d.byok_cost_usd), 0) as cost
       from public.organisation_member_usage_daily d
       where d.organisation_id = p_organisation_id and d.user_id = p_user_id and d.date >= v_start and d.date < v_end) mu,
      (select coalesce(sum(gr.tokens), 0) as tokens, coalesce(sum(gr.cost_usd), 0) as cost
       from public.quota_grants gr
       where gr.organisation_id = p_organisation_id and gr.expires_at > now() and gr.starts_at <= now() and gr.voided_at is null) g)
  select
    f.id, f.tier_id, v_start, v_end,
    f.token_limit::bigint, least(f.grant_tokens, v_max)::bigint, least(f.tokens, v_max)::bigint, least(f.held_tokens, v_max)::bigint,
    least(greatest(f.token_allowance - f.tokens - f.held_tokens, 0), v_max)::bigint,
    f.cost_limit::numeric, f.grant_cost, f.cost, f.held_cost, greatest(f.cost_allowance - f.cost - f.held_cost, 0),
    f.request_limit::integer, least(f.requests, v_max)::bigint, least(f.held_requests, v_max)::bigint,
    greatest(f.request_limit - f.requests - f.held_requests, 0)::bigint,
    f.soft_percent::smallint,
    (f.tokens + f.held_tokens) * 100 >= f.token_allowance * f.soft_percent
      or (f.cost + f.held_cost) * 100 >= f.cost_allowance * f.soft_percent
      or (f.requests + f.held_requests) * 100 >= f.request_limit * f.soft_percent,
    f.tokens + f.held_tokens >= f.token_allowance
      or f.cost + f.held_cost >= f.cost_allowance
      or f.requests + f.held_requests >= f.request_limit,
    case when f.role is not null then p_user_id end, f.role,
    f.token_cap::bigint, least(f.m_tokens, v_max)::bigint, least(f.m_held_tokens, v_max)::bigint,
    case when f.token_cap is not null then greatest(f.token_cap - f.m_tokens - f.m_held_tokens, 0)::bigint end,
    f.cost_cap::numeric, f.m_cost, f.m_held_cost,
    case when f.cost_cap is not null then greatest(f.cost_cap - f.m_cost - f.m_held_cost, 0) end,
    f.rpm::integer, f.tpm::bigint
  from f;
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
