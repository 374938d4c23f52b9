-- The organisation functions of the API. Each runs with the caller's rights
-- and hands the call to its namesake in the private schema (not exposed by
-- the API), which checks who the signed-in caller is in the organisation and
-- writes with its owner's rights. No SECURITY DEFINER function is
-- executable through the API (Supabase's linter).

create or replace function public.create_organisation(p_name text)
returns uuid
language plpgsql
security invoker
set search_path = pg_catalog, pg_temp
as $$
begin
  return private.create_organisation(p_name);
end;
$$;

comment on function public.create_organisation(text) is
  'Creates an organisation with the signed-in user as its owner; returns its id.';

revoke all on function public.create_organisation(text) from public, anon, authenticated, service_role;

grant execute on function public.create_organisation(text) to authenticated;

create or replace function public.invite_member(
  p_organisation_id uuid,
  p_email text,
  p_role public.organisation_role default 'member',
  p_ttl interval default interval '7 days')
returns table (invitation_id uuid, token text, expires_at timestamptz)
language plpgsql
security invoker
set search_path = pg_catalog, pg_temp
as $$
begin
  return query select * from private.invite_member(p_organisation_id, p_email, p_role, p_ttl);
end;
$$;

comment on function public.invite_member(uuid, text, public.organisation_role, interval) is
  'Invites an email address to the organisation (owners and admins); returns the token, shown only this once.';

revoke all on function public.invite_member(uuid, text, public.organisation_role, interval) from public, anon, authenticated, service_role;

grant execute on function public.invite_member(uuid, text, public.organisation_role, interval) to authenticated;

create or replace function public.accept_invitation(p_token text)
returns uuid
language plpgsql
security invoker
set search_path = pg_catalog, pg_temp
as $$
begin
  return private.accept_invitation(p_token);
end;
$$;

comment on function public.accept_invitation(text) is
  'Joins the signed-in user to the organisation of an open invitation sent to their verified email; returns the organisation.';

revoke all on function public.accept_invitation(text) from public, anon, authenticated, service_role;

grant execute on function public.accept_invitation(text) to authenticated;

create or replace function public.revoke_invitation(p_invitation_id uuid)
returns boolean
language plpgsql
security invoker
set search_path = pg_catalog, pg_temp
as $$
begin
  return private.revoke_invitation(p_invitation_id);
end;
$$;

comment on function public.revoke_invitation(uuid) is
  'Revokes an open invitation (owners and admins); false when it was already accepted or revoked.';

revoke all on function public.revoke_invitation(uuid) from public, anon, authenticated, service_role;

grant execute on function public.revoke_invitation(uuid) to authenticated;

create or replace function public.set_member_role(p_organisation_id uuid, p_user_id uuid, p_role public.organisation_role)
returns boolean
language plpgsql
security invoker
set search_path = pg_catalog, pg_temp
as $$
begin
  return private.set_member_role(p_organisation_id, p_user_id, p_role);
end;
$$;

comment on function public.set_member_role(uuid, uuid, public.organisation_role) is
  'Changes another member''s role (owners and admins; owners alone touch owners); false when it was already that role.';

revoke all on function public.set_member_role(uuid, uuid, public.organisation_role) from public, anon, authenticated, service_role;

grant execute on function public.set_member_role(uuid, uuid, public.organisation_role) to authenticated;

create or replace function public.set_member_caps(p_organisation_id uuid, p_user_id uuid,
  p_monthly_tokens bigint default null, p_monthly_cost_usd numeric default null)
returns boolean
language plpgsql
security invoker
set search_path = pg_catalog, pg_temp
as $$
begin
  return private.set_member_caps(p_organisation_id, p_user_id, p_monthly_tokens, p_monthly_cost_usd);
end;
$$;

comment on function public.set_member_caps(uuid, uuid, bigint, numeric) is
  'Sets a member''s monthly caps in the organisation (owners and admins); null means the organisation''s default.';

revoke all on function public.set_member_caps(uuid, uuid, bigint, numeric) from public, anon, authenticated, service_role;

grant execute on function public.set_member_caps(uuid, uuid, bigint, numeric) to authenticated;

create or replace function public.set_default_member_caps(p_organisation_id uuid,
  p_monthly_tokens bigint default null, p_monthly_cost_usd numeric default null)
returns boolean
language plpgsql
security invoker
set search_path = pg_catalog, pg_temp
as $$
begin
  return private.set_default_member_caps(p_organisation_id, p_monthly_tokens, p_monthly_cost_usd);
end;
$$;

comment on function public.set_default_member_caps(uuid, bigint, numeric) is
  'Sets the default monthly caps of the organisation''s members (owners and admins); null is no cap.';

revoke all on function public.set_default_member_caps(uuid, bigint, numeric) from public, anon, authenticated, service_role;

grant execute on function public.set_default_member_caps(uuid, bigint, numeric) to authenticated;

create or replace function public.remove_member(p_organisation_id uuid, p_user_id uuid)
returns boolean
language plpgsql
security invoker
set search_path = pg_catalog, pg_temp
as $$
begin
  return private.remove_member(p_organisation_id, p_user_id);
end;
$$;

comment on function public.remove_member(uuid, uuid) is
  'Removes a member (owners and admins; only owners remove owners) or the caller themselves; the last owner stays.';

revoke all on function public.remove_member(uuid, uuid) from public, anon, authenticated, service_role;

grant execute on function public.remove_member(uuid, uuid) to authenticated;

create or replace function public.get_organisation_quota_status(p_organisation_id uuid, p_user_id uuid default auth.uid())
returns table (
  organisation_id uuid, tier_id text, period_start timestamptz, period_end timestamptz,
  monthly_token_limit bigint, grant_tokens bigint, tokens_used bigint, tokens_reserved bigint, tokens_remaining bigint,
  monthly_cost_limit_usd numeric, grant_cost_usd numeric, cost_used_usd numeric, cost_reserved_usd numeric, cost_remaining_usd numeric,
  daily_request_limit integer, requests_today bigint, requests_reserved bigint, requests_remaining bigint,
  soft_limit_percent smallint, soft_limit_reached boolean, hard_limit_reached boolean,
  member_user_id uuid, member_role public.organisation_role,
  member_token_cap bigint, member_tokens_used bigint, member_tokens_reserved bigint, member_tokens_remaining bigint,
  member_cost_cap_usd numeric, member_cost_used_usd numeric, member_cost_reserved_usd numeric, member_cost_remaining_usd numeric,
  requests_per_minute integer, tokens_per_minute bigint)
language plpgsql
stable
security invoker
set search_path = pg_catalog, pg_temp
as $$
begin
  return query select * from private.get_organisation_quota_status(p_organisation_id, p_user_id);
end;
$$;

comment on function public.get_organisation_quota_status(uuid, uuid) is
  'An organisation''s quota for the current period and a member''s share: members their own, owners and admins any member''s.';

revoke all on function public.get_organisation_quota_status(uuid, uuid) from public, anon, authenticated, service_role;

grant execute on function public.get_organisation_quota_status(uuid, uuid) to authenticated, service_role;

create or replace function public.get_grant_balances(p_user_id uuid default auth.uid(), p_organisation_id uuid default null)
returns table (
  grant_id uuid, priority smallint, reason text, starts_at timestamptz, expires_at timestamptz,
  tokens bigint, tokens_remaining bigint, cost_usd numeric, cost_remaining_usd numeric)
language plpgsql
stable
security invoker
set search_path = pg_catalog, pg_temp
as $$
begin
  return query select * from private.get_grant_balances(p_user_id, p_organisation_id);
end;
$$;

comment on function public.get_grant_balances(uuid, uuid) is
  'The active grants of a user (or of an organisation) with what is left of each this period.';

revoke all on function public.get_grant_balances(uuid, uuid) from public, anon, authenticated, service_role;

grant execute on function public.get_grant_balances(uuid, uuid) to authenticated, service_role;
