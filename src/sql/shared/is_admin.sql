-- True when the signed-in user's profile has the admin flag. Policies call it
-- (sub-selected, so once per statement) to let admins read everyone's usage.
-- SECURITY DEFINER so it reads profiles without the caller's RLS; plpgsql so
-- its body is bound at first call.

create or replace function private.is_admin()
returns boolean
language plpgsql
stable
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  return coalesce(
    (select p.is_admin from public.profiles p where p.id = (select auth.uid())),
    false
  );
end;
$$;

comment on function private.is_admin() is
  'True when the signed-in user (auth.uid()) has the admin flag on their profile.';

revoke all on function private.is_admin() from public, anon, authenticated, service_role;

grant execute on function private.is_admin() to authenticated, service_role;
