-- Who may touch profiles, the users view and the audit log through the API.
-- Row-level security (src/policies/profiles.ts) decides which rows; these
-- grants decide which operations and columns, whatever a policy says.

-- Profiles: created by the sign-up trigger; a user changes only the display fields.
revoke all on table public.profiles from public, anon, authenticated, service_role;

grant select on table public.profiles to authenticated;

grant update (display_name, avatar_url) on table public.profiles to authenticated;

grant select, insert, update, delete on table public.profiles to service_role;

-- users(id, email, ...) over profiles, with the caller's rights (security_invoker):
-- through it a user changes only what profiles lets them change.
revoke all on table public.users from public, anon, authenticated, service_role;

grant select on table public.users to authenticated;

grant update (display_name) on table public.users to authenticated;

grant select, insert, update, delete on table public.users to service_role;

-- The audit log is append-only for every API role, service_role included.
revoke all on table public.audit_log from public, anon, authenticated, service_role;

grant select on table public.audit_log to authenticated;

grant select, insert on table public.audit_log to service_role;

-- Identity columns need no privilege on their sequence; nobody may move it (setval).
revoke all on sequence public.audit_log_id_seq from public, anon, authenticated, service_role;
