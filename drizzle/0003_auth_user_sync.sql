-- The one audit writer, used by the account triggers below and the audit
-- triggers of the next migration: who (the JWT's user and the database role),
-- whom, what, before and after, as the database saw it.
create or replace function private.audit(p_subject uuid, p_action text, p_entity_type text, p_entity_id text,
  p_before jsonb, p_after jsonb)
returns void
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.audit_log (actor_id, actor_role, subject_id, action, entity_type, entity_id, before, after)
  values ((select auth.uid()), coalesce(nullif(current_setting('role', true), 'none'), current_user),
          p_subject, p_action, p_entity_type, p_entity_id, p_before, p_after);
end;
$$;
--> statement-breakpoint
revoke execute on function private.audit(uuid, text, text, text, jsonb, jsonb) from public, anon, authenticated;
--> statement-breakpoint

-- Sign-up: every new auth user gets a profile and a quota on the default tier.
-- Supabase Auth inserts into auth.users as supabase_auth_admin, so the
-- function is SECURITY DEFINER with an empty search_path, and nobody may call
-- it directly. If it raised, sign-up would fail ("Database error saving new
-- user"): it takes only what it can store (names are cut to 200 characters).
create or replace function private.handle_new_auth_user()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  insert into public.profiles (id, email, email_verified, phone, display_name, is_anonymous)
  values (
    new.id,
    new.email,
    new.email_confirmed_at is not null,
    new.phone,
    left(nullif(btrim(coalesce(new.raw_user_meta_data ->> 'full_name', new.raw_user_meta_data ->> 'name', '')), ''), 200),
    coalesce(new.is_anonymous, false)
  )
  on conflict (id) do nothing;

  insert into public.user_quotas
    (user_id, tier_id, monthly_token_limit, monthly_cost_limit_usd, daily_request_limit, soft_limit_percent)
  select new.id, t.id, t.monthly_token_limit, t.monthly_cost_limit_usd, t.daily_request_limit, t.soft_limit_percent
  from public.quota_tiers t
  where t.is_default
  on conflict (user_id) do nothing;

  return new;
end;
$$;
--> statement-breakpoint
revoke execute on function private.handle_new_auth_user() from public, anon, authenticated;
--> statement-breakpoint
create trigger on_auth_user_created after insert on auth.users
  for each row execute function private.handle_new_auth_user();
--> statement-breakpoint
-- Email, phone and their confirmation follow auth.users (changed by Supabase
-- Auth: confirmations, email changes, phone sign-in), and a soft delete
-- removes the personal data. Only these columns are copied; nothing from user
-- metadata is ever trusted for authorisation.
create or replace function private.handle_auth_user_updated()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  -- A soft-deleted account (Supabase Auth sets deleted_at) loses its personal
  -- data as a deleted one does; the audit log keeps a note.
  if new.deleted_at is not null and old.deleted_at is null then
    delete from public.profiles p where p.id = new.id;
    perform private.audit(new.id, 'user.soft_deleted', 'auth.users', new.id::text, null, null);
    return new;
  end if;
  update public.profiles p set
    email = new.email,
    email_verified = new.email_confirmed_at is not null,
    phone = new.phone,
    is_anonymous = coalesce(new.is_anonymous, false)
  where p.id = new.id
    and (p.email is distinct from new.email
      or p.email_verified is distinct from (new.email_confirmed_at is not null)
      or p.phone is distinct from new.phone
      or p.is_anonymous is distinct from coalesce(new.is_anonymous, false));
  return new;
end;
$$;
--> statement-breakpoint
revoke execute on function private.handle_auth_user_updated() from public, anon, authenticated;
--> statement-breakpoint
create trigger on_auth_user_updated
  after update of email, email_confirmed_at, phone, is_anonymous, deleted_at on auth.users
  for each row execute function private.handle_auth_user_updated();
--> statement-breakpoint
-- Deleting an auth user deletes the profile, and with it (ON DELETE CASCADE)
-- every personal row: usage, daily totals, sessions, messages, quota,
-- reservations. The audit log has no foreign key and keeps its entries; this
-- adds one saying the account was deleted, without its personal data.
create or replace function private.handle_auth_user_deleted()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  perform private.audit(old.id, 'user.deleted', 'auth.users', old.id::text, null, null);
  return old;
end;
$$;
--> statement-breakpoint
revoke execute on function private.handle_auth_user_deleted() from public, anon, authenticated;
--> statement-breakpoint
create trigger on_auth_user_deleted after delete on auth.users
  for each row execute function private.handle_auth_user_deleted();
