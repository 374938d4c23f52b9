-- Quotas through the API: users read their own (src/policies/quotas.ts);
-- tiers and per-user limits are set by service_role (and audited by the
-- database); reservations are written only by the quota functions.
revoke all on table public.quota_tiers from public, anon, authenticated, service_role;

grant select on table public.quota_tiers to authenticated;

grant select, insert, update, delete on table public.quota_tiers to service_role;

revoke all on table public.user_quotas from public, anon, authenticated, service_role;

grant select on table public.user_quotas to authenticated;

grant select, insert, update, delete on table public.user_quotas to service_role;

-- Derived rows: reserve_quota, record_usage, release_quota and
-- expire_quota_reservations write them with their owner's rights.
revoke all on table public.quota_reservations from public, anon, authenticated, service_role;

grant select on table public.quota_reservations to authenticated, service_role;

-- Derived rows: record_usage, record_adjustment and private.quota_alert_check
-- write them with their owner's rights; users may read their own.
revoke all on table public.quota_alert_headroom from public, anon, authenticated, service_role;

grant select on table public.quota_alert_headroom to authenticated, service_role;
