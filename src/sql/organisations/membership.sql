-- Who the signed-in user is in organisations, for the policies of the
-- organisation tables (sub-selected, so once per statement). SECURITY
-- DEFINER: they read organisation_members without the caller's RLS, which
-- would otherwise ask itself.

create or replace function private.member_organisations()
returns setof uuid
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  return query select m.organisation_id from public.organisation_members m where m.user_id = (select auth.uid());
end;
$$;

comment on function private.member_organisations() is
  'The organisations the signed-in user (auth.uid()) is a member of.';

revoke all on function private.member_organisations() from public, anon, authenticated, service_role;

grant execute on function private.member_organisations() to authenticated, service_role;

create or replace function private.managed_organisations()
returns setof uuid
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  return query select m.organisation_id from public.organisation_members m
    where m.user_id = (select auth.uid()) and m.role in ('owner', 'admin');
end;
$$;

comment on function private.managed_organisations() is
  'The organisations the signed-in user (auth.uid()) is an owner or admin of.';

revoke all on function private.managed_organisations() from public, anon, authenticated, service_role;

grant execute on function private.managed_organisations() to authenticated, service_role;

-- The signed-in caller's role in an organisation, or a refusal naming the
-- field: the check every membership function starts with.
create or replace function private.require_organisation_role(p_organisation_id uuid, p_roles public.organisation_role[])
returns public.organisation_role
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_role public.organisation_role;
begin
  if (select auth.uid()) is null then
    perform private.bad_input('auth.uid()', 'a signed-in user is required', '42501');
  end if;
  if p_organisation_id is null then perform private.bad_input('organisation_id', 'is required'); end if;
  select m.role into v_role from public.organisation_members m
  where m.organisation_id = p_organisation_id and m.user_id = (select auth.uid());
  if v_role is null then
    perform private.bad_input('organisation_id', 'is not an organisation of yours', '42501');
  end if;
  if not v_role = any (p_roles) then
    perform private.bad_input('organisation_id', format('needs the role %s (yours is %s)', array_to_string(p_roles, ' or '), v_role), '42501');
  end if;
  return v_role;
end;
$$;

comment on function private.require_organisation_role(uuid, public.organisation_role[]) is
  'The signed-in user''s role in the organisation; raises 42501 unless it is one of the roles given.';

revoke all on function private.require_organisation_role(uuid, public.organisation_role[]) from public, anon, authenticated, service_role;
