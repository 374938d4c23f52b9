// What a Supabase project's database already holds before our migrations run,
// reproduced for local databases (embedded PGlite, a plain PostgreSQL server,
// a test container) so that migrations, grants, policies and tests behave
// there as they will on Supabase. It is never part of drizzle/: on a real
// project Supabase provides all of it.
//
// Checked against Supabase's own sources (the supabase/postgres image
// migrations and pg_dumpall output of hosted projects on PostgreSQL 15 and 17,
// and the supabase/auth migrations for auth.users):
//   - anon, authenticated and service_role are NOLOGIN *INHERIT* (Supabase
//     switched them from NOINHERIT in 2023); service_role alone has BYPASSRLS.
//     INHERIT matters: a role later granted to `authenticated` hands its
//     privileges to every signed-in user, and a local NOINHERIT would hide it.
//   - authenticator is LOGIN NOINHERIT and a member of the three API roles.
//   - the migrating role (postgres) is a member of the three API roles (with
//     ADMIN OPTION from PostgreSQL 16 on) but no longer of supabase_auth_admin.
//   - supabase_auth_admin is LOGIN NOINHERIT; Supabase revoked its CREATEROLE
//     in 2026, so it has none here either.
//   - default privileges: whatever postgres creates in `public` is granted
//     ALL to postgres, anon, authenticated and service_role (tables,
//     sequences, functions). EXECUTE for PUBLIC on new functions is left as
//     PostgreSQL has it.
//   - auth.users is owned by supabase_auth_admin, has row level security
//     enabled with no policy, and grants nothing to anon, authenticated or
//     service_role; postgres gets every privilege (SELECT with grant option).
//   - auth.uid(), role(), email() and jwt() are plain SQL, STABLE, owned by
//     supabase_auth_admin; the API roles call them through PUBLIC's EXECUTE.
//   - the publication supabase_realtime exists (Realtime's postgres_changes
//     reads it), owned by postgres and holding no table until one is added.
// Where this differs from Supabase on purpose: the auth schema is owned by
// supabase_auth_admin (Supabase: supabase_admin, a superuser we do not
// create, with ALL granted to supabase_auth_admin), and only auth.users exists
// in it.
//
// "Migrating role" below means the role that applies this emulation (the
// one that will run the migrations locally) plus `postgres` when such a role
// exists: on Supabase that is postgres, on a test container it may be
// another superuser.
//
// Every entry is exactly one statement (PGlite's extended protocol and
// postgres.js with parameters accept no more); DO blocks count as one. All
// of it is idempotent. Roles are cluster-wide, and several databases of one
// server may be prepared at the same moment, so everything that touches a
// role tolerates a concurrent session doing the same thing first.

type RoleAttributes = {
  login: boolean;
  inherit: boolean;
  createrole: boolean;
  bypassrls: boolean;
};

const apiRoles = ['anon', 'authenticated', 'service_role'] as const;

/** Roles with the attributes Supabase gives them. */
const roles: ReadonlyArray<{ name: string; attributes: RoleAttributes }> = [
  { name: 'anon', attributes: { login: false, inherit: true, createrole: false, bypassrls: false } },
  { name: 'authenticated', attributes: { login: false, inherit: true, createrole: false, bypassrls: false } },
  { name: 'service_role', attributes: { login: false, inherit: true, createrole: false, bypassrls: true } },
  { name: 'authenticator', attributes: { login: true, inherit: false, createrole: false, bypassrls: false } },
  { name: 'supabase_auth_admin', attributes: { login: true, inherit: false, createrole: false, bypassrls: false } },
];

/** Per-role settings Supabase sets (they apply when a session logs in as that role). */
const roleSettings: ReadonlyArray<{ role: string; name: string; value: string }> = [
  { role: 'anon', name: 'statement_timeout', value: '3s' },
  { role: 'authenticated', name: 'statement_timeout', value: '8s' },
  { role: 'authenticator', name: 'statement_timeout', value: '8s' },
  { role: 'authenticator', name: 'lock_timeout', value: '8s' },
  // Supabase Auth's sessions resolve unqualified names in auth first: the
  // reason functions fired by triggers on auth.users need search_path = ''.
  { role: 'supabase_auth_admin', name: 'search_path', value: 'auth' },
  { role: 'supabase_auth_admin', name: 'idle_in_transaction_session_timeout', value: '60000' },
];

function attributeClause(a: RoleAttributes): string {
  return [
    'nosuperuser',
    a.login ? 'login' : 'nologin',
    a.inherit ? 'inherit' : 'noinherit',
    a.createrole ? 'createrole' : 'nocreaterole',
    'nocreatedb',
    'noreplication',
    a.bypassrls ? 'bypassrls' : 'nobypassrls',
  ].join(' ');
}

/**
 * Creates the role, or brings an existing one (say, from an older version of
 * this emulation) to the right attributes. A concurrent creator raises
 * duplicate_object or unique_violation; a concurrent ALTER of the same role
 * raises "tuple concurrently updated" (internal_error). Either way the other
 * session did the same work.
 */
function ensureRole(name: string, a: RoleAttributes): string {
  const clause = attributeClause(a);
  return `do $emulation$
begin
  if not exists (select from pg_catalog.pg_roles where rolname = '${name}') then
    begin
      create role ${name} ${clause};
    exception when duplicate_object or unique_violation then
      null;
    end;
  end if;
  if exists (
    select from pg_catalog.pg_roles
    where rolname = '${name}'
      and (rolsuper, rolcanlogin, rolinherit, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls)
        is distinct from (false, ${a.login}, ${a.inherit}, ${a.createrole}, false, false, ${a.bypassrls})
  ) then
    begin
      alter role ${name} ${clause};
    exception when internal_error then
      null;
    end;
  end if;
end
$emulation$`;
}

/** ALTER ROLE ... SET, unless already set to that value. */
function ensureRoleSetting(role: string, name: string, value: string): string {
  return `do $emulation$
begin
  if not exists (
    select from pg_catalog.pg_db_role_setting s
    where s.setdatabase = 0
      and s.setrole = (select oid from pg_catalog.pg_roles where rolname = '${role}')
      and '${name}=${value}' = any (s.setconfig)
  ) then
    begin
      alter role ${role} set ${name} = '${value}';
    exception when unique_violation or internal_error then
      null;
    end;
  end if;
end
$emulation$`;
}

/**
 * Grants membership of each role in `granted` to each member (a query
 * yielding role names). The existence check reads pg_auth_members itself:
 * pg_has_role() is always true for a superuser, which would skip the grant
 * Supabase makes to postgres.
 */
function ensureMemberships(
  granted: readonly string[],
  members: string,
  options: { adminOptionFrom16?: boolean; onlyFrom16?: boolean } = {},
): string {
  const list = granted.map((r) => `'${r}'`).join(', ');
  const suffix = options.adminOptionFrom16 ? `case when is16 then ' with admin option' else '' end` : `''`;
  return `do $emulation$
declare
  is16 boolean := pg_catalog.current_setting('server_version_num')::int >= 160000;
  granted_role text;
  member_role text;
begin
  if ${options.onlyFrom16 ? 'not is16' : 'false'} then
    return;
  end if;
  for member_role in ${members} loop
    foreach granted_role in array array[${list}] loop
      if granted_role <> member_role and not exists (
        select from pg_catalog.pg_auth_members m
        where m.roleid = (select oid from pg_catalog.pg_roles where rolname = granted_role)
          and m.member = (select oid from pg_catalog.pg_roles where rolname = member_role)
      ) then
        begin
          execute pg_catalog.format('grant %I to %I', granted_role, member_role) || ${suffix};
        exception when duplicate_object or unique_violation then
          null;
        end;
      end if;
    end loop;
  end loop;
end
$emulation$`;
}

/** The migrating role(s), as a query for a PL/pgSQL FOR loop. */
const migratingRoles = `select rolname::text from pg_catalog.pg_roles where rolname in (current_user, 'postgres')`;

/** Runs `statements` (format() templates, %1$I = the role) once per migrating role. */
function forEachMigratingRole(statements: readonly string[]): string {
  const body = statements
    .map((s) => `    execute pg_catalog.format('${s.replaceAll("'", "''")}', migrating_role);`)
    .join('\n');
  return `do $emulation$
declare
  migrating_role text;
begin
  for migrating_role in ${migratingRoles} loop
${body}
  end loop;
end
$emulation$`;
}

/**
 * auth.<name>() as Supabase defines it: one claim of the request's JWT, taken
 * from the older one-setting-per-claim form (request.jwt.claim.<claim>) or
 * else from the JSON of all claims (request.jwt.claims), an empty setting
 * counting as absent, cast to the result type.
 */
function claimFunction(name: string, claim: string, type: 'uuid' | 'text'): string {
  return `create or replace function auth.${name}() returns ${type}
language sql stable
as $function$
  select coalesce(
    nullif(current_setting('request.jwt.claim.${claim}', true), ''),
    (nullif(current_setting('request.jwt.claims', true), '')::jsonb ->> '${claim}')
  )::${type}
$function$`;
}

/** Unique while it holds a real token; empty or numeric placeholders may repeat. */
function tokenIndex(column: string): string {
  return `create unique index if not exists ${column}_idx on auth.users (${column})
  where ((${column})::text !~ '^[0-9 ]*$')`;
}

export const supabaseEmulationStatements: readonly string[] = [
  // Roles. PostgREST logs in as authenticator and switches to anon,
  // authenticated or service_role according to the request's JWT.
  ...roles.map((r) => ensureRole(r.name, r.attributes)),
  ensureMemberships(apiRoles, `select 'authenticator'::text`),
  ensureMemberships(apiRoles, migratingRoles, { adminOptionFrom16: true }),
  // From PostgreSQL 16 on, postgres also administers authenticator.
  ensureMemberships(['authenticator'], migratingRoles, { adminOptionFrom16: true, onlyFrom16: true }),
  ...roleSettings.map((s) => ensureRoleSetting(s.role, s.name, s.value)),

  // public: usable (not writable) by the API roles, and everything the
  // migrating role creates there is granted to all three. This is what makes
  // a table without row level security a leak on Supabase.
  `grant usage on schema public to anon, authenticated, service_role`,
  forEachMigratingRole([
    'grant usage on schema public to %1$I',
    'alter default privileges for role %1$I in schema public grant all on tables to %1$I, anon, authenticated, service_role',
    'alter default privileges for role %1$I in schema public grant all on sequences to %1$I, anon, authenticated, service_role',
    'alter default privileges for role %1$I in schema public grant all on functions to %1$I, anon, authenticated, service_role',
  ]),

  // auth: the API roles may look up names in it (to call auth.uid() and the
  // like) but hold no privilege on its tables.
  `create schema if not exists auth authorization supabase_auth_admin`,
  `grant usage on schema auth to anon, authenticated, service_role`,
  // Column names, types, defaults and constraints as Supabase Auth's
  // migrations leave them.
  `create table if not exists auth.users (
    instance_id uuid,
    id uuid not null,
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
    phone text default null,
    phone_confirmed_at timestamptz,
    phone_change text default '',
    phone_change_token varchar(255) default '',
    phone_change_sent_at timestamptz,
    confirmed_at timestamptz generated always as (least(email_confirmed_at, phone_confirmed_at)) stored,
    email_change_token_current varchar(255) default '',
    email_change_confirm_status smallint default 0,
    banned_until timestamptz,
    reauthentication_token varchar(255) default '',
    reauthentication_sent_at timestamptz,
    is_sso_user boolean not null default false,
    deleted_at timestamptz,
    is_anonymous boolean not null default false,
    constraint users_pkey primary key (id),
    constraint users_phone_key unique (phone),
    constraint users_email_change_confirm_status_check
      check (email_change_confirm_status >= 0 and email_change_confirm_status <= 2)
  )`,
  `alter table auth.users owner to supabase_auth_admin`,
  `alter table auth.users enable row level security`,
  `comment on table auth.users is 'Local stand-in for Supabase Auth''s user table (src/local/supabaseEmulation.ts).'`,
  `create index if not exists users_instance_id_idx on auth.users (instance_id)`,
  `create index if not exists users_instance_id_email_idx on auth.users (instance_id, lower((email)::text))`,
  `create unique index if not exists users_email_partial_key on auth.users (email) where (is_sso_user = false)`,
  `create index if not exists users_is_anonymous_idx on auth.users (is_anonymous)`,
  tokenIndex('confirmation_token'),
  tokenIndex('recovery_token'),
  tokenIndex('email_change_token_current'),
  tokenIndex('email_change_token_new'),
  tokenIndex('reauthentication_token'),

  // The JWT helpers, reading what PostgREST sets for each request.
  claimFunction('uid', 'sub', 'uuid'),
  claimFunction('role', 'role', 'text'),
  claimFunction('email', 'email', 'text'),
  `create or replace function auth.jwt() returns jsonb
language sql stable
as $function$
  select coalesce(
    nullif(current_setting('request.jwt.claim', true), ''),
    nullif(current_setting('request.jwt.claims', true), '')
  )::jsonb
$function$`,
  `alter function auth.uid() owner to supabase_auth_admin`,
  `alter function auth.role() owner to supabase_auth_admin`,
  `alter function auth.email() owner to supabase_auth_admin`,
  `alter function auth.jwt() owner to supabase_auth_admin`,

  // Supabase Realtime's publication, which every project has, empty at first;
  // tables join it to send their changes to subscribed clients.
  `do $$
begin
  if not exists (select from pg_catalog.pg_publication where pubname = 'supabase_realtime') then
    create publication supabase_realtime;
  end if;
end
$$`,

  // The migrating role on Supabase: may look into auth (not create in it),
  // do anything to auth.users' rows and put triggers and foreign keys on it,
  // and call the helpers.
  forEachMigratingRole([
    'grant usage on schema auth to %1$I',
    'grant all on table auth.users to %1$I',
    'grant select on table auth.users to %1$I with grant option',
    'grant all on function auth.uid(), auth.role(), auth.email(), auth.jwt() to %1$I',
  ]),
];

/** Applies the emulation through `exec`, one statement per call. Idempotent. */
export async function applySupabaseEmulation(exec: (sql: string) => Promise<unknown>): Promise<void> {
  for (const statement of supabaseEmulationStatements) {
    await exec(statement);
  }
}
