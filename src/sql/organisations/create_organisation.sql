-- A new organisation, on the `team` tier, with the signed-in caller as its
-- first owner. Returns its id.

create or replace function private.create_organisation(p_name text)
returns uuid
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_user uuid := (select auth.uid());
  v_id uuid;
begin
  if v_user is null then
    perform private.bad_input('auth.uid()', 'a signed-in user is required', '42501');
  end if;
  if p_name is null or char_length(btrim(p_name)) not between 1 and {{limits.organisationNameLength}} then
    perform private.bad_input('name', {{messages.organisationName}});
  end if;
  insert into public.organisations (name, created_by) values (btrim(p_name), v_user) returning id into v_id;
  insert into public.organisation_members (organisation_id, user_id, role) values (v_id, v_user, 'owner');
  return v_id;
end;
$$;

comment on function private.create_organisation(text) is
  'Creates an organisation with the signed-in user as its owner; returns its id.';

revoke all on function private.create_organisation(text) from public, anon, authenticated, service_role;

grant execute on function private.create_organisation(text) to authenticated;
