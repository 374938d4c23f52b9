-- What the API roles get on objects that migrations create in `public` later,
-- before the object's own grants (each domain's grants.sql) say otherwise.
-- Supabase's own default privileges grant everything to anon, authenticated
-- and service_role; anon gets nothing on tables and sequences here.
alter default privileges in schema public revoke all on tables from public, anon, authenticated, service_role;

alter default privileges in schema public grant all on tables to authenticated, service_role;

alter default privileges in schema public revoke all on sequences from public, anon, authenticated, service_role;

alter default privileges in schema public grant all on sequences to authenticated, service_role;

alter default privileges in schema public revoke all on functions from public, anon, authenticated, service_role;

alter default privileges in schema public grant execute on functions to anon, authenticated, service_role;
