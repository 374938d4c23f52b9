-- The `private` schema holds helpers that policies and triggers call but the
-- API must not expose (Supabase's API serves `public` only). It comes first
-- because the policies of the next migration call private.is_admin().
create schema if not exists private;
--> statement-breakpoint
revoke all on schema private from public;
--> statement-breakpoint
-- Policies run as the querying role, so authenticated needs to reach the helper.
grant usage on schema private to authenticated, service_role;
--> statement-breakpoint
-- True when the signed-in user's profile has the admin flag. SECURITY DEFINER
-- so it reads profiles without the caller's RLS; plpgsql so its body is bound
-- at first call, after profiles exists.
create or replace function private.is_admin()
returns boolean
language plpgsql
stable
security definer
set search_path = ''
as $$
begin
  return coalesce(
    (select p.is_admin from public.profiles p where p.id = (select auth.uid())),
    false
  );
end;
$$;
--> statement-breakpoint
revoke execute on function private.is_admin() from public, anon;
--> statement-breakpoint
grant execute on function private.is_admin() to authenticated, service_role;
