-- Email, phone, their confirmation and the anonymous flag follow auth.users
-- (changed by Supabase Auth: confirmations, email changes, phone sign-in,
-- linking an anonymous account), and a soft delete removes the personal data.
-- Only these columns are copied; nothing from user metadata is ever trusted
-- for authorisation.

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

comment on function private.handle_auth_user_updated() is
  'Trigger on auth.users: copies email, phone, confirmation and the anonymous flag to the profile; a soft delete removes the personal data.';

revoke all on function private.handle_auth_user_updated() from public, anon, authenticated, service_role;

create or replace trigger on_auth_user_updated
  after update of email, email_confirmed_at, phone, is_anonymous, deleted_at on auth.users
  for each row execute function private.handle_auth_user_updated();
