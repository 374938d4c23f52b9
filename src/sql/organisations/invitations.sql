-- Invitations: an owner or admin invites an email address as a role (an
-- owner alone invites owners). The token is returned once and only its
-- SHA-256 is kept; whoever signs in with that verified email accepts it,
-- once, before it expires.

create or replace function private.invite_member(
  p_organisation_id uuid,
  p_email text,
  p_role public.organisation_role default 'member',
  p_ttl interval default interval '7 days')
returns table (invitation_id uuid, token text, expires_at timestamptz)
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_caller public.organisation_role;
  v_email text := lower(btrim(p_email));
begin
  v_caller := private.require_organisation_role(p_organisation_id, '{owner,admin}');
  if v_email is null or char_length(v_email) > {{limits.emailLength}} or v_email !~ '^[^@[:space:]]+@[^@[:space:]]+$' then
    perform private.bad_input('email', {{messages.email}});
  end if;
  if p_role is null then perform private.bad_input('role', 'is required'); end if;
  if p_role = 'owner' and v_caller <> 'owner' then
    perform private.bad_input('role', 'only an owner may invite an owner', '42501');
  end if;
  if p_ttl is null or p_ttl < make_interval(secs => {{limits.invitationTtlMinSeconds}})
     or p_ttl > make_interval(secs => {{limits.invitationTtlMaxSeconds}}) then
    perform private.bad_input('ttl', {{messages.invitationTtl}});
  end if;
  -- One decision at a time per organisation, so the bound below holds.
  perform 1 from public.organisations o where o.id = p_organisation_id for update;
  if (select count(*) from public.organisation_invitations i
      where i.organisation_id = p_organisation_id and i.accepted_at is null and i.revoked_at is null
        and i.expires_at > now()) >= {{limits.openInvitationsMax}} then
    perform private.bad_input('organisation_id', 'has too many open invitations (revoke some)', '54000');
  end if;

  -- 244 random bits (two version-4 UUIDs), as 64 hex digits.
  token := replace(gen_random_uuid()::text || gen_random_uuid()::text, '-', '');
  expires_at := now() + p_ttl;
  insert into public.organisation_invitations (organisation_id, email, role, token_hash, invited_by, expires_at)
  values (p_organisation_id, v_email, p_role, sha256(convert_to(token, 'UTF8')), (select auth.uid()), expires_at)
  returning id into invitation_id;
  return next;
end;
$$;

comment on function private.invite_member(uuid, text, public.organisation_role, interval) is
  'Invites an email address to the organisation (owners and admins); returns the token, shown only this once.';

revoke all on function private.invite_member(uuid, text, public.organisation_role, interval) from public, anon, authenticated, service_role;

grant execute on function private.invite_member(uuid, text, public.organisation_role, interval) to authenticated;

create or replace function private.accept_invitation(p_token text)
returns uuid
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_user uuid := (select auth.uid());
  v_invitation public.organisation_invitations%rowtype;
  v_email text;
  v_verified boolean;
begin
  if v_user is null then
    perform private.bad_input('auth.uid()', 'a signed-in user is required', '42501');
  end if;
  if p_token is null or p_token !~ '^[0-9a-f]{64}$' then
    perform private.bad_input('token', 'is not an invitation token');
  end if;
  select * into v_invitation from public.organisation_invitations i
  where i.token_hash = sha256(convert_to(p_token, 'UTF8'))
  for update;
  if not found then
    perform private.bad_input('token', 'is not an invitation token', '42501');
  end if;
  if v_invitation.accepted_at is not null then
    perform private.bad_input('token', 'has already been used', '42501');
  end if;
  if v_invitation.revoked_at is not null then
    perform private.bad_input('token', 'was revoked', '42501');
  end if;
  if v_invitation.expires_at <= now() then
    perform private.bad_input('token', 'has expired', '42501');
  end if;
  select lower(p.email), p.email_verified into v_email, v_verified from public.profiles p where p.id = v_user;
  if v_email is distinct from v_invitation.email or not v_verified then
    perform private.bad_input('token', 'was sent to another email address (or yours is not verified)', '42501');
  end if;

  update public.organisation_invitations i set accepted_at = now(), accepted_by = v_user where i.id = v_invitation.id;
  -- Already a member: the invitation is spent and the role stays as it is.
  insert into public.organisation_members (organisation_id, user_id, role, invited_by)
  values (v_invitation.organisation_id, v_user, v_invitation.role, v_invitation.invited_by)
  on conflict (organisation_id, user_id) do nothing;
  return v_invitation.organisation_id;
end;
$$;

comment on function private.accept_invitation(text) is
  'Joins the signed-in user to the organisation of an open invitation sent to their verified email; returns the organisation.';

revoke all on function private.accept_invitation(text) from public, anon, authenticated, service_role;

grant execute on function private.accept_invitation(text) to authenticated;

create or replace function private.revoke_invitation(p_invitation_id uuid)
returns boolean
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_organisation uuid;
begin
  select i.organisation_id into v_organisation from public.organisation_invitations i where i.id = p_invitation_id;
  if v_organisation is null then
    perform private.bad_input('invitation_id', 'is not an invitation', '23503');
  end if;
  perform private.require_organisation_role(v_organisation, '{owner,admin}');
  update public.organisation_invitations i set revoked_at = now()
  where i.id = p_invitation_id and i.accepted_at is null and i.revoked_at is null;
  return found;
end;
$$;

comment on function private.revoke_invitation(uuid) is
  'Revokes an open invitation (owners and admins); false when it was already accepted or revoked.';

revoke all on function private.revoke_invitation(uuid) from public, anon, authenticated, service_role;

grant execute on function private.revoke_invitation(uuid) to authenticated;
