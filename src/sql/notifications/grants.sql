-- Quota notifications through the API: a user reads their own (the policy in
-- src/policies/notifications.ts; Supabase Realtime checks the same policy and
-- drops the columns the role may not read) and sets read_at, nothing else.
-- The delivery columns are the outbox's, readable by service_role and written
-- only by the outbox functions; rows are written only by the accounting
-- functions and removed only by retention and account deletion.
revoke all on table public.quota_notifications from public, anon, authenticated, service_role;

grant select (id, user_id, kind, quota_limit, threshold_percent, period_start, used, limit_value, created_at, read_at)
  on table public.quota_notifications to authenticated;

grant update (read_at) on table public.quota_notifications to authenticated;

grant select on table public.quota_notifications to service_role;

-- Identity columns need no privilege on their sequence; nobody may move it (setval).
revoke all on sequence public.quota_notifications_id_seq from public, anon, authenticated, service_role;
