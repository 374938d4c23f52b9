-- Managing members, as the signed-in user. Owners and admins change roles
-- and caps and remove members; nobody changes their own role; an admin
-- neither makes, demotes nor removes an owner; anybody may leave. The last
-- owner is kept by a trigger (organisation_keeps_an_owner.sql), whoever
-- writes.

create or replace function private.set_member_role(p_organisation_id uuid, p_user_id uuid, p_role public.organisation_role)
returns boolean
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_caller public.organisation_role;
  v_current public.organisation_role;
begin
  v_caller := private.require_organisation_role(p_organisation_id, '{owner,admin}');
  if p_role is null then perform private.bad_input('role', 'is required'); end if;
  if p_user_id is null then perform private.bad_input('user_id', 'is required'); end if;
  if p_user_id = (select auth.uid()) then
    perform private.bad_input('user_id', 'nobody changes their own role', '42501');
  end if;
  select m.role into v_current from public.organisation_members m
  where m.organisation_id = p_organisation_id and m.user_id = p_user_id for update;
  if v_current is null then
    perform private.bad_input('user_id', 'is not a member of this organisation', '23503');
  end if;
  if v_caller <> 'owner' and (v_current = 'owner' or p_role = 'owner') then
    perform private.bad_input('role', 'only an owner may make or change an owner', '42501');
  end if;
  update public.organisation_members m set role = p_role
  where m.organisation_id = p_organisation_id and m.user_id = p_user_id and m.role <> p_role;
  return found;
end;
$$;

comment on function private.set_member_role(uuid, uuid, public.organisation_role) is
  'Changes another member''s role (owners and admins; owners alone touch owners); false when it was already that role.';

revoke all on function private.set_member_role(uuid, uuid, public.organisation_role) from public, anon, authenticated, service_role;

grant execute on function private.set_member_role(uuid, uuid, public.organisation_role) to authenticated;

-- A cap must fit in the organisation's budget: at most its effective limit.
create or replace function private.check_member_caps(p_organisation_id uuid, p_tokens bigint, p_cost_usd numeric)
returns void
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_tokens bigint;
  v_cost numeric;
begin
  select coalesce(o.monthly_token_limit_override, t.monthly_token_limit),
         coalesce(o.monthly_cost_limit_usd_override, t.monthly_cost_limit_usd)
    into v_tokens, v_cost
  from public.organisations o join public.quota_tiers t on t.id = o.tier_id
  where o.id = p_organisation_id;
  if p_tokens < 0 or p_tokens > v_tokens then
    perform private.bad_input('monthly_tokens', format('must be empty or between 0 and the organisation''s limit of %s tokens', v_tokens));
  end if;
  if not (p_cost_usd between 0 and v_cost) then
    perform private.bad_input('monthly_cost_usd', format('must be empty or between 0 and the organisation''s limit of %s USD', v_cost));
  end if;
end;
$$;

comment on function private.check_member_caps(uuid, bigint, numeric) is
  'Raises unless the caps fit in the organisation''s monthly limits (null is no cap).';

revoke all on function private.check_member_caps(uuid, bigint, numeric) from public, anon, authenticated, service_role;

-- One member's caps (null: the organisation's default).
create or replace function private.set_member_caps(p_organisation_id uuid, p_user_id uuid,
  p_monthly_tokens bigint default null, p_monthly_cost_usd numeric default null)
returns boolean
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  perform private.require_organisation_role(p_organisation_id, '{owner,admin}');
  if p_user_id is null then perform private.bad_input('user_id', 'is required'); end if;
  perform private.check_member_caps(p_organisation_id, p_monthly_tokens, p_monthly_cost_usd);
  update public.organisation_members m
  set token_cap_override = p_monthly_tokens, cost_cap_usd_override = p_monthly_cost_usd
  where m.organisation_id = p_organisation_id and m.user_id = p_user_id;
  if not found then
    perform private.bad_input('user_id', 'is not a member of this organisation', '23503');
  end if;
  return true;
end;
$$;

comment on function private.set_member_caps(uuid, uuid, bigint, numeric) is
  'Sets a member''s monthly caps in the organisation (owners and admins); null means the organisation''s default.';

revoke all on function private.set_member_caps(uuid, uuid, bigint, numeric) from public, anon, authenticated, service_role;

grant execute on function private.set_member_caps(uuid, uuid, bigint, numeric) to authenticated;

-- The default caps of every member without caps of their own (null: none).
create or replace function private.set_default_member_caps(p_organisation_id uuid,
  p_monthly_tokens bigint default null, p_monthly_cost_usd numeric default null)
returns boolean
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  perform private.require_organisation_role(p_organisation_id, '{owner,admin}');
  perform private.check_member_caps(p_organisation_id, p_monthly_tokens, p_monthly_cost_usd);
  update public.organisations o set member_token_cap = p_monthly_tokens, member_cost_cap_usd = p_monthly_cost_usd
  where o.id = p_organisation_id;
  return true;
end;
$$;

comment on function private.set_default_member_caps(uuid, bigint, numeric) is
  'Sets the default monthly caps of the organisation''s members (owners and admins); null is no cap.';

revoke all on function private.set_default_member_caps(uuid, bigint, numeric) from public, anon, authenticated, service_role;

grant execute on function private.set_default_member_caps(uuid, bigint, numeric) to authenticated;

-- Removes a member (owners and admins; an admin not an owner), or the caller
-- themselves (leaving). True when a membership ended.
create or replace function private.remove_member(p_organisation_id uuid, p_user_id uuid)
returns boolean
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_caller public.organisation_role;
  v_target public.organisation_role;
begin
  if p_user_id is null then perform private.bad_input('user_id', 'is required'); end if;
  if p_user_id = (select auth.uid()) then
    perform private.require_organisation_role(p_organisation_id, '{owner,admin,member}');
  else
    v_caller := private.require_organisation_role(p_organisation_id, '{owner,admin}');
    select m.role into v_target from public.organisation_members m
    where m.organisation_id = p_organisation_id and m.user_id = p_user_id for update;
    if v_target is null then return false; end if;
    if v_target = 'owner' and v_caller <> 'owner' then
      perform private.bad_input('user_id', 'an admin may not remove an owner', '42501');
    end if;
  end if;
  delete from public.organisation_members m where m.organisation_id = p_organisation_id and m.user_id = p_user_id;
  return found;
end;
$$;

comment on function private.remove_member(uuid, uuid) is
  'Removes a member (owners and admins; only owners remove owners) or the caller themselves; the last owner stays.';

revoke all on function private.remove_member(uuid, uuid) from public, anon, authenticated, service_role;

grant execute on function private.remove_member(uuid, uuid) to authenticated;
