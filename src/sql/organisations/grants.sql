-- Organisations through the API: members read them (src/policies/
-- organisations.ts); every change a user may make goes through the
-- membership functions, which check who may do what. Tier, budget and
-- per-minute limits are billing: service_role alone writes them. The usage
-- rows are derived: only the accounting functions write them.
revoke all on table public.organisations from public, anon, authenticated, service_role;

grant select on table public.organisations to authenticated;

grant select, insert, update, delete on table public.organisations to service_role;

revoke all on table public.organisation_members from public, anon, authenticated, service_role;

grant select on table public.organisation_members to authenticated;

grant select, insert, update, delete on table public.organisation_members to service_role;

-- The token's hash is nobody's to read.
revoke all on table public.organisation_invitations from public, anon, authenticated, service_role;

grant select (id, organisation_id, email, role, invited_by, expires_at, accepted_at, accepted_by, revoked_at, created_at)
  on table public.organisation_invitations to authenticated, service_role;

grant delete on table public.organisation_invitations to service_role;

revoke all on table public.organisation_usage_daily from public, anon, authenticated, service_role;

grant select on table public.organisation_usage_daily to authenticated, service_role;

revoke all on table public.organisation_member_usage_daily from public, anon, authenticated, service_role;

grant select on table public.organisation_member_usage_daily to authenticated, service_role;

revoke all on table public.organisation_usage_monthly from public, anon, authenticated, service_role;

grant select on table public.organisation_usage_monthly to authenticated, service_role;

revoke all on table public.organisation_member_usage_monthly from public, anon, authenticated, service_role;

grant select on table public.organisation_member_usage_monthly to authenticated, service_role;

-- Grants are given and voided by service_role only (void: set voided_at);
-- they are never deleted through the API, so the audit trail stays whole.
revoke all on table public.quota_grants from public, anon, authenticated, service_role;

grant select on table public.quota_grants to authenticated;

grant select, insert on table public.quota_grants to service_role;

grant update (voided_at) on table public.quota_grants to service_role;

revoke all on table public.tier_model_limits from public, anon, authenticated, service_role;

grant select on table public.tier_model_limits to authenticated;

grant select, insert, update, delete on table public.tier_model_limits to service_role;

-- Written only by reserve_quota; users read their own (RLS).
revoke all on table public.rate_limit_state from public, anon, authenticated, service_role;

grant select on table public.rate_limit_state to authenticated, service_role;
