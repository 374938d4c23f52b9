-- The `private` schema holds what policies and triggers call but the API must
-- not expose (Supabase's API serves `public` only). Policies run as the
-- querying role, so authenticated (and service_role) may look names up in it;
-- each function decides who may execute it.
create schema if not exists private;

revoke all on schema private from public, anon, authenticated, service_role;

grant usage on schema private to authenticated, service_role;
