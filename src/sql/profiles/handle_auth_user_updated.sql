-- Email, phone, their confirmation and the anonymous flag follow auth.users
-- (changed by Supabase Auth: confirmations, email changes, phone sign-in,
-- linking an anonymous account), and a soft delete removes the personal data.
-- Only these columns are copied; nothing from user metadata is ever trusted
-- for authorisation. An anonymous user who links an identity (is_anonymous
-- turns false) leaves the anonymous tier for the default one; the move is
-- audited (here, and as a tier change by the quota's own audit trigger).

create or replace function private.handle_auth_user_updated()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_before text;
  v_after text;
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
  if coalesce(old.is_anonymous, false) and not coalesce(new.is_anonymous, false) then
    update public.user_quotas q set tier_id = d.id
    from public.quota_tiers d, public.quota_tiers a
    where q.user_id = new.id and d.is_default and a.is_anonymous_default and q.tier_id = a.id
    returning a.id, d.id into v_before, v_after;
    if found then
      perform private.audit(new.id, 'user.anonymous_linked', 'auth.users', new.id::text,
        jsonb_build_object('is_anonymous', true, 'tier_id', v_before),
        jsonb_build_object('is_anonymous', false, 'tier_id', v_after));
    end if;
  end if;
  return new;
end;
$$;

comment on function private.handle_auth_user_updated() is
  'Trigger on auth.users: copies email, phone, confirmation and the anonymous flag to the profile (a linked anonymous user moves to the default tier); a soft delete removes the personal data.';

revoke all on function private.handle_auth_user_updated() from public, anon, authenticated, service_role;

create or replace trigger on_auth_user_updated
  after update of email, email_confirmed_at, phone, is_anonymous, deleted_at on auth.users
  for each row execute function private.handle_auth_user_updated();
