// What a Supabase project's database already has before our migrations run:
// the API roles, the default privileges that expose every new object in
// `public` to them, and the `auth` schema with `auth.users` and the JWT
// helpers. Local databases (embedded PGlite, test servers, containers) get
// this first, so that migrations, grants and policies behave as on Supabase.
// It is never part of drizzle/: on a real project Supabase provides it.
//
// Each entry is one statement (PGlite's extended protocol and postgres.js
// parameters need that). All of it is idempotent, and safe when several
// databases of one server are prepared at once (roles are cluster-wide).

/** Creates a role unless it exists; a concurrent creator winning the race is fine. */
function ensureRole(name: string, attributes: string): string {
  return `do $$
begin
  if not exists (select 1 from pg_catalog.pg_roles where rolname = '${name}') then
    begin
      create role ${name} ${attributes};
    exception when duplicate_object or unique_violation then
      null;
    end;
  end if;
end
$$`;
}

/** Grants role membership unless already there (GRANT of a role warns or errors on repeats, depending on version). */
function ensureMembership(role: string, member: string): string {
  return `do $$
begin
  if not pg_catalog.pg_has_role('${member}', '${role}', 'member') then
    begin
      grant ${role} to ${member};
    exception when duplicate_object or unique_violation then
      null;
    end;
  end if;
end
$$`;
}

/**
 * auth.<name>() as Supabase defines it: one claim of the request's JWT, from
 * the older per-claim setting (request.jwt.claim.<claim>) or the JSON of all
 * claims (request.jwt.claims), cast to its type.
 */
function claimReader(name: string, claim: string, type: 'uuid' | 'text'): string {
  return `create or replace function auth.${name}() returns ${type}
    language sql stable
    as $$
      select coalesce(
        nullif(current_setting('request.jwt.claim.${claim}', true), ''),
        (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> '${claim}')
      )::${type}
    $$`;
}

export const supabaseEmulationStatements: readonly string[] = [
  // The API roles. PostgREST logs in as authenticator and switches to anon,
  // authenticated or service_role by the request's JWT; service_role skips RLS.
  ensureRole('anon', 'nologin noinherit'),
  ensureRole('authenticated', 'nologin noinherit'),
  ensureRole('service_role', 'nologin noinherit bypassrls'),
  ensureRole('authenticator', 'login noinherit'),
  // Supabase Auth's own role: owns the auth schema and writes auth.users.
  ensureRole('supabase_auth_admin', 'login noinherit createrole'),
  ensureMembership('anon', 'authenticator'),
  ensureMembership('authenticated', 'authenticator'),
  ensureMembership('service_role', 'authenticator'),

  // public: usable by the API roles, and everything the migrating role
  // creates there is granted to all three (that is what makes a table
  // without RLS a leak on Supabase).
  `grant usage on schema public to anon, authenticated, service_role`,
  `alter default privileges in schema public grant all on tables to anon, authenticated, service_role`,
  `alter default privileges in schema public grant all on sequences to anon, authenticated, service_role`,
  `alter default privileges in schema public grant all on functions to anon, authenticated, service_role`,

  // auth: owned by supabase_auth_admin; the API roles may use the schema
  // (to call auth.uid() and friends) but get no privilege on its tables.
  `create schema if not exists auth authorization supabase_auth_admin`,
  `grant usage on schema auth to anon, authenticated, service_role`,
  `create table if not exists auth.users (
    instance_id uuid,
    id uuid not null primary key,
    aud varchar(255),
    role varchar(255),
    email varchar(255),
    encrypted_password varchar(255),
    email_confirmed_at timestamptz,
    invited_at timestamptz,
    confirmation_token varchar(255),
    confirmation_sent_at timestamptz,
    recovery_token varchar(255),
    recovery_sent_at timestamptz,
    email_change_token_new varchar(255),
    email_change varchar(255),
    email_change_sent_at timestamptz,
    last_sign_in_at timestamptz,
    raw_app_meta_data jsonb,
    raw_user_meta_data jsonb,
    is_super_admin boolean,
    created_at timestamptz,
    updated_at timestamptz,
    phone text unique default null,
    phone_confirmed_at timestamptz,
    phone_change text default '',
    phone_change_token varchar(255) default '',
    phone_change_sent_at timestamptz,
    confirmed_at timestamptz generated always as (least(email_confirmed_at, phone_confirmed_at)) stored,
    email_change_token_current varchar(255) default '',
    email_change_confirm_status smallint default 0 check (email_change_confirm_status >= 0 and email_change_confirm_status <= 2),
    banned_until timestamptz,
    reauthentication_token varchar(255) default '',
    reauthentication_sent_at timestamptz,
    is_sso_user boolean not null default false,
    deleted_at timestamptz,
    is_anonymous boolean not null default false
  )`,
  `alter table auth.users owner to supabase_auth_admin`,
  `create index if not exists users_instance_id_idx on auth.users (instance_id)`,
  `create unique index if not exists users_email_partial_key on auth.users (email) where (is_sso_user = false)`,

  // The JWT helpers, read from the request settings PostgREST sets per
  // request; both the current JSON claims and the older per-claim settings.
  claimReader('uid', 'sub', 'uuid'),
  claimReader('role', 'role', 'text'),
  claimReader('email', 'email', 'text'),
  `create or replace function auth.jwt() returns jsonb
    language sql stable
    as $$
      select coalesce(
        nullif(current_setting('request.jwt.claim', true), ''),
        nullif(current_setting('request.jwt.claims', true), '')
      )::jsonb
    $$`,
  `alter function auth.uid() owner to supabase_auth_admin`,
  `alter function auth.role() owner to supabase_auth_admin`,
  `alter function auth.email() owner to supabase_auth_admin`,
  `alter function auth.jwt() owner to supabase_auth_admin`,
  `grant execute on function auth.uid(), auth.role(), auth.email(), auth.jwt() to anon, authenticated, service_role`,

  // The migrating role (postgres on Supabase) may read auth.users and put
  // triggers on it, as on a hosted project.
  `grant select, trigger, references on auth.users to postgres`,
];

/** Runs the emulation with `exec` (one statement per call). Idempotent. */
export async function applySupabaseEmulation(exec: (sql: string) => Promise<unknown>): Promise<void> {
  for (const statement of supabaseEmulationStatements) {
    await exec(statement);
  }
}
