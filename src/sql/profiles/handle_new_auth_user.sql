-- Sign-up: every new auth user gets a profile and a quota on the default
-- tier, or, for an anonymous sign-in (Supabase's is_anonymous), on the tier
-- marked for anonymous users when there is one: farming anonymous accounts
-- must not multiply the free quota.
-- Supabase Auth inserts into auth.users as supabase_auth_admin (whose
-- search_path starts with auth), so the function is SECURITY DEFINER with
-- fully qualified names, and nobody may call it directly. If it raised,
-- sign-up would fail ("Database error saving new user"): it takes only what
-- it can store (names are cut to 200 characters).

create or replace function private.handle_new_auth_user()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  insert into public.profiles (id, email, email_verified, phone, display_name, is_anonymous)
  values (
    new.id,
    new.email,
    new.email_confirmed_at is not null,
    new.phone,
    left(nullif(btrim(coalesce(new.raw_user_meta_data ->> 'full_name', new.raw_user_meta_data ->> 'name', '')), ''), {{limits.displayNameLength}}),
    coalesce(new.is_anonymous, false)
  )
  on conflict (id) do nothing;

  insert into public.user_quotas
    (user_id, tier_id, monthly_token_limit, monthly_cost_limit_usd, daily_request_limit, soft_limit_percent)
  select new.id, t.id, t.monthly_token_limit, t.monthly_cost_limit_usd, t.daily_request_limit, t.soft_limit_percent
  from public.quota_tiers t
  where t.is_default or (coalesce(new.is_anonymous, false) and t.is_anonymous_default)
  order by (coalesce(new.is_anonymous, false) and t.is_anonymous_default) desc
  limit 1
  on conflict (user_id) do nothing;

  return new;
end;
$$;

comment on function private.handle_new_auth_user() is
  'Trigger on auth.users: creates the profile and the quota of a new user, on the default tier or, for an anonymous sign-in, the anonymous one.';

revoke all on function private.handle_new_auth_user() from public, anon, authenticated, service_role;

create or replace trigger on_auth_user_created after insert on auth.users
  for each row execute function private.handle_new_auth_user();
