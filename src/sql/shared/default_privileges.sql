-- What the API roles get on objects that migrations create in `public`
-- later: nothing. Supabase's own default privileges grant everything to
-- anon, authenticated and service_role (a new table would be open to the
-- world until its policies exist, a new function executable by anon); here a
-- new table, view, sequence or function is reachable only once its source
-- grants it (each domain's grants.sql, each function's own file). A view that
-- a migration recreates comes back the same way, and `npm run db:generate`
-- applies its grants again in the next migration.
alter default privileges in schema public revoke all on tables from public, anon, authenticated, service_role;

alter default privileges in schema public revoke all on sequences from public, anon, authenticated, service_role;

alter default privileges in schema public revoke all on functions from public, anon, authenticated, service_role;

-- EXECUTE for PUBLIC on new functions is Postgres's default for every schema.
alter default privileges revoke execute on functions from public;
