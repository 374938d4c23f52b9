-- An organisation always has an owner: a change that would leave it with
-- none is refused, whoever makes it (the membership functions and
-- service_role alike). Two owners demoting each other at once are decided
-- one after the other: the organisation's row is locked first. Deleting the
-- organisation, or the account of its last owner, is not refused; such an
-- organisation waits for service_role to name an owner.

create or replace function private.organisation_keeps_an_owner()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  if old.role = 'owner' and (tg_op = 'DELETE' or new.role <> 'owner') then
    perform 1 from public.organisations o where o.id = old.organisation_id for update;
    if found
       and exists (select 1 from public.profiles p where p.id = old.user_id)
       and not exists (select 1 from public.organisation_members m
                       where m.organisation_id = old.organisation_id and m.role = 'owner' and m.user_id <> old.user_id) then
      perform private.bad_input('user_id', 'is the last owner: make another member owner first', '23514');
    end if;
  end if;
  return null;
end;
$$;

comment on function private.organisation_keeps_an_owner() is
  'Trigger: refuses removing or demoting the last owner of an organisation.';

revoke all on function private.organisation_keeps_an_owner() from public, anon, authenticated, service_role;

create or replace trigger organisation_members_keep_an_owner after update of role or delete on public.organisation_members
  for each row execute function private.organisation_keeps_an_owner();
