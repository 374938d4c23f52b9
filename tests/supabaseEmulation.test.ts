import { randomBytes, randomUUID } from 'node:crypto';
import { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applySupabaseEmulation, supabaseEmulationStatements } from '../src/local/supabaseEmulation.js';

// The Supabase emulation on its own, on the two kinds of local database it
// prepares: a fresh database of a PostgreSQL server, and an in-memory PGlite.
// Self-contained on purpose: small drivers of its own, no migrations.

type Row = Record<string, unknown>;
type Query = <T = Row>(text: string, params?: unknown[]) => Promise<T[]>;

interface Target {
  /** The migrating role's session: runs one statement. */
  exec(text: string): Promise<unknown>;
  query: Query;
  /** Runs `fn` in one transaction on one session and always rolls it back. */
  transaction<T>(fn: (query: Query) => Promise<T>): Promise<T>;
  /** A second, fresh database on the same cluster (server only). */
  anotherDatabase?(): Promise<Target>;
  close(): Promise<void>;
}

/** Thrown out of a driver's transaction callback so that the driver rolls back. */
class RollBack<T> {
  constructor(readonly result: T) {}
}

/** Runs `start`, whose callback hands its result to `done`; the transaction is rolled back and the result returned. */
async function rolledBack<T>(start: (done: (result: T) => never) => Promise<unknown>): Promise<T> {
  try {
    await start((result) => {
      throw new RollBack(result);
    });
  } catch (error) {
    if (error instanceof RollBack) return error.result as T;
    throw error;
  }
  throw new Error('the transaction ended without its result');
}

// --- the server: a database of its own, dropped afterwards ----------------

const explicitServerUrl = process.env.TEST_DATABASE_URL;
const serverUrl = explicitServerUrl ?? 'postgres://postgres@127.0.0.1:5432/postgres';

function databaseUrl(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** A server is used when one is named, or when the default local one answers. */
async function serverAvailable(): Promise<boolean> {
  if (process.env.TEST_TARGET === 'pglite') return false;
  if (explicitServerUrl) return true; // named: failing to reach it is a failure, not a skip
  const probe = postgres(serverUrl, { max: 1, connect_timeout: 3, onnotice: () => {} });
  try {
    await probe`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await probe.end({ timeout: 1 });
  }
}

async function serverTarget(): Promise<Target> {
  const name = `witchcraft_emulation_${randomBytes(6).toString('hex')}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  const client = postgres(databaseUrl(serverUrl, name), { max: 1, onnotice: () => {} });
  const others: Target[] = [];
  const query: Query = async (text, params = []) =>
    [...(await client.unsafe(text, params as postgres.ParameterOrJSON<never>[]))] as never[];
  return {
    exec: (text) => client.unsafe(text),
    query,
    transaction: (fn) =>
      rolledBack((done) =>
        client.begin(async (tx) =>
          done(await fn(async (text, params = []) => [...(await tx.unsafe(text, params as postgres.ParameterOrJSON<never>[]))] as never[])),
        ),
      ),
    anotherDatabase: async () => {
      const other = await serverTarget();
      others.push(other);
      return other;
    },
    close: async () => {
      await Promise.all(others.map((o) => o.close()));
      await client.end();
      try {
        await admin.unsafe(`drop database if exists "${name}" with (force)`);
      } finally {
        await admin.end();
      }
    },
  };
}

// --- PGlite: in memory ------------------------------------------------------

async function pgliteTarget(): Promise<Target> {
  const pg = new PGlite();
  await pg.waitReady;
  return {
    exec: (text) => pg.exec(text),
    query: async (text, params) => (await pg.query(text, params)).rows as never[],
    transaction: (fn) =>
      rolledBack((done) => pg.transaction(async (tx) => done(await fn(async (text, params) => (await tx.query(text, params)).rows as never[])))),
    close: () => pg.close(),
  };
}

// --- helpers ----------------------------------------------------------------

/** The SQLSTATE of a rejected promise (both drivers put it in `code`). */
async function sqlState(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return String((error as { code?: unknown }).code);
  }
  throw new Error('expected the statement to fail');
}

const apiRoles = ['anon', 'authenticated', 'service_role'] as const;

/** What the emulation leaves in the catalog; equal before and after a second run. */
async function catalogSnapshot(query: Query): Promise<unknown> {
  return {
    roles: await query(`select rolname, rolsuper, rolcanlogin, rolinherit, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls
      from pg_roles where rolname in ('anon', 'authenticated', 'service_role', 'authenticator', 'supabase_auth_admin') order by rolname`),
    memberships: await query(`select r.rolname as role, m.rolname as member, am.admin_option
      from pg_auth_members am join pg_roles r on r.oid = am.roleid join pg_roles m on m.oid = am.member
      where r.rolname in ('anon', 'authenticated', 'service_role', 'authenticator', 'supabase_auth_admin')
      order by 1, 2`),
    settings: await query(`select s.setrole::regrole::text as role, s.setconfig from pg_db_role_setting s
      where s.setdatabase = 0 and s.setrole::regrole::text in ('anon', 'authenticated', 'authenticator', 'supabase_auth_admin')
      order by 1`),
    defaultAcl: await query(`select defaclrole::regrole::text as role, defaclobjtype, defaclacl::text[] as acl
      from pg_default_acl where defaclnamespace = 'public'::regnamespace order by 1, 2`),
    schemas: await query(`select nspname, nspowner::regrole::text as owner, nspacl::text[] as acl
      from pg_namespace where nspname in ('public', 'auth') order by 1`),
    authObjects: await query(`select c.relname, c.relkind, c.relowner::regrole::text as owner, c.relacl::text[] as acl, c.relrowsecurity
      from pg_class c where c.relnamespace = 'auth'::regnamespace order by 1`),
    functions: await query(`select p.proname, p.proowner::regrole::text as owner, p.proacl::text[] as acl, p.prosrc
      from pg_proc p where p.pronamespace = 'auth'::regnamespace order by 1`),
  };
}

// --- the tests ----------------------------------------------------------------

const useServer = await serverAvailable();
const targets = [
  { name: 'a PostgreSQL server database', kind: 'server', open: serverTarget, skip: !useServer },
  { name: 'in-memory PGlite', kind: 'pglite', open: pgliteTarget, skip: false },
] as const;

describe.each(targets)('Supabase emulation on $name', ({ kind, open, skip }) => {
  let t: Target;
  let migratingRole: string;

  beforeAll(async () => {
    if (skip) return;
    t = await open();
    await applySupabaseEmulation((text) => t.exec(text));
    const [me] = await t.query<{ who: string }>('select current_user as who');
    migratingRole = me!.who;
  });
  afterAll(async () => {
    await t?.close();
  });

  it.skipIf(skip)('is one statement per entry, each runnable alone', () => {
    expect(supabaseEmulationStatements.length).toBeGreaterThan(10);
    for (const statement of supabaseEmulationStatements) {
      // No statement separators outside dollar-quoted bodies.
      const outsideBodies = statement.replace(/\$(\w*)\$[\s\S]*?\$\1\$/g, '');
      expect(outsideBodies).not.toMatch(/;/);
    }
  });

  it.skipIf(skip)('can be applied again, and the second run changes nothing', async () => {
    const before = await catalogSnapshot(t.query);
    await applySupabaseEmulation((text) => t.exec(text));
    await applySupabaseEmulation((text) => t.exec(text));
    expect(await catalogSnapshot(t.query)).toEqual(before);
  });

  it.skipIf(skip)("has Supabase's roles with Supabase's attributes", async () => {
    const roles = await t.query(`select rolname, rolsuper, rolcanlogin, rolinherit, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls
      from pg_roles where rolname in ('anon', 'authenticated', 'service_role', 'authenticator', 'supabase_auth_admin') order by rolname`);
    const role = (rolname: string, login: boolean, inherit: boolean, bypassrls: boolean) => ({
      rolname, rolsuper: false, rolcanlogin: login, rolinherit: inherit, rolcreaterole: false,
      rolcreatedb: false, rolreplication: false, rolbypassrls: bypassrls,
    });
    expect(roles).toEqual([
      role('anon', false, true, false),
      role('authenticated', false, true, false),
      role('authenticator', true, false, false),
      role('service_role', false, true, true),
      role('supabase_auth_admin', true, false, false),
    ]);
  });

  it.skipIf(skip)('makes authenticator and the migrating role members of the API roles, and nobody a member of supabase_auth_admin', async () => {
    const members = await t.query<{ role: string; member: string }>(`select r.rolname as role, m.rolname as member
      from pg_auth_members am join pg_roles r on r.oid = am.roleid join pg_roles m on m.oid = am.member
      where r.rolname in ('anon', 'authenticated', 'service_role', 'supabase_auth_admin')`);
    for (const api of apiRoles) {
      expect(members).toContainEqual({ role: api, member: 'authenticator' });
      expect(members).toContainEqual({ role: api, member: migratingRole });
    }
    expect(members.filter((m) => m.role === 'supabase_auth_admin')).toEqual([]);
  });

  it.skipIf(skip)('lets the migrating role switch to each API role and to supabase_auth_admin', async () => {
    for (const role of [...apiRoles, 'supabase_auth_admin']) {
      const [row] = await t.transaction(async (q) => {
        await q(`set local role ${role}`);
        return q<{ who: string }>('select current_user as who');
      });
      expect(row!.who).toBe(role);
    }
  });

  it.skipIf(skip)("carries Supabase's per-role settings", async () => {
    const settings = await t.query<{ role: string; setconfig: string[] }>(`select s.setrole::regrole::text as role, s.setconfig
      from pg_db_role_setting s where s.setdatabase = 0
        and s.setrole::regrole::text in ('anon', 'authenticated', 'authenticator', 'supabase_auth_admin') order by 1`);
    const byRole = Object.fromEntries(settings.map((s) => [s.role, s.setconfig]));
    expect(byRole.anon).toContain('statement_timeout=3s');
    expect(byRole.authenticated).toContain('statement_timeout=8s');
    expect(byRole.authenticator).toEqual(expect.arrayContaining(['statement_timeout=8s', 'lock_timeout=8s']));
    expect(byRole.supabase_auth_admin).toContain('search_path=auth');
  });

  it.skipIf(skip)('lets the API roles use public but not create in it', async () => {
    for (const role of apiRoles) {
      const [p] = await t.query<{ usage: boolean; create: boolean }>(
        `select has_schema_privilege($1, 'public', 'usage') as usage, has_schema_privilege($1, 'public', 'create') as create`,
        [role],
      );
      expect(p).toEqual({ usage: true, create: false });
    }
  });

  it.skipIf(skip)('grants the API roles everything the migrating role creates in public, and keeps EXECUTE for PUBLIC', async () => {
    await t.exec('create table public.emulation_probe (id bigserial primary key, note text)');
    await t.exec('create function public.emulation_probe_fn() returns int language sql as $$ select 1 $$');
    try {
      for (const role of apiRoles) {
        const [p] = await t.query<Record<string, boolean>>(`select
            has_table_privilege($1, 'public.emulation_probe', 'select,insert,update,delete,truncate,references,trigger') as tbl,
            has_sequence_privilege($1, 'public.emulation_probe_id_seq', 'usage,select,update') as seq,
            has_function_privilege($1, 'public.emulation_probe_fn()', 'execute') as fn`, [role]);
        expect(p, role).toEqual({ tbl: true, seq: true, fn: true });
      }
      const [pub] = await t.query<{ public_execute: boolean }>(`select exists (
          select from pg_proc p, aclexplode(p.proacl) a
          where p.oid = 'public.emulation_probe_fn()'::regprocedure and a.grantee = 0 and a.privilege_type = 'EXECUTE'
        ) as public_execute`);
      expect(pub!.public_execute).toBe(true);
      // Without row level security anon really reads and writes it: the leak Supabase would have.
      const rows = await t.transaction(async (q) => {
        await q('set local role anon');
        await q(`insert into public.emulation_probe (note) values ('written by anon')`);
        return q<{ note: string }>('select note from public.emulation_probe');
      });
      expect(rows).toEqual([{ note: 'written by anon' }]);
    } finally {
      await t.exec('drop function public.emulation_probe_fn()');
      await t.exec('drop table public.emulation_probe');
    }
  });

  it.skipIf(skip)('creates nothing in public', async () => {
    const [n] = await t.query<{ objects: number }>(`select
      (select count(*) from pg_class where relnamespace = 'public'::regnamespace)::int
      + (select count(*) from pg_proc where pronamespace = 'public'::regnamespace)::int as objects`);
    expect(n!.objects).toBe(0);
  });

  it.skipIf(skip)('gives the auth schema to supabase_auth_admin; the API roles and the migrating role may only use it', async () => {
    const [owner] = await t.query<{ owner: string }>(`select nspowner::regrole::text as owner from pg_namespace where nspname = 'auth'`);
    expect(owner!.owner).toBe('supabase_auth_admin');
    for (const role of [...apiRoles, migratingRole]) {
      const [p] = await t.query<{ usage: boolean }>(`select has_schema_privilege($1, 'auth', 'usage') as usage`, [role]);
      expect(p!.usage, role).toBe(true);
    }
    for (const role of apiRoles) {
      const [p] = await t.query<{ create: boolean }>(`select has_schema_privilege($1, 'auth', 'create') as create`, [role]);
      expect(p!.create, role).toBe(false);
    }
  });

  it.skipIf(skip)("has auth.users with Supabase Auth's columns, owned by supabase_auth_admin, RLS on", async () => {
    const columns = await t.query<{ name: string; type: string; nullable: boolean; default: string | null; generated: string }>(`
      select a.attname as name, format_type(a.atttypid, a.atttypmod) as type, not a.attnotnull as nullable,
             pg_get_expr(d.adbin, d.adrelid) as default, a.attgenerated::text as generated
      from pg_attribute a left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
      where a.attrelid = 'auth.users'::regclass and a.attnum > 0 and not a.attisdropped order by a.attnum`);
    const byName = Object.fromEntries(columns.map((c) => [c.name, c]));
    expect(columns.map((c) => c.name)).toEqual([
      'instance_id', 'id', 'aud', 'role', 'email', 'encrypted_password', 'email_confirmed_at', 'invited_at',
      'confirmation_token', 'confirmation_sent_at', 'recovery_token', 'recovery_sent_at', 'email_change_token_new',
      'email_change', 'email_change_sent_at', 'last_sign_in_at', 'raw_app_meta_data', 'raw_user_meta_data',
      'is_super_admin', 'created_at', 'updated_at', 'phone', 'phone_confirmed_at', 'phone_change', 'phone_change_token',
      'phone_change_sent_at', 'confirmed_at', 'email_change_token_current', 'email_change_confirm_status', 'banned_until',
      'reauthentication_token', 'reauthentication_sent_at', 'is_sso_user', 'deleted_at', 'is_anonymous',
    ]);
    expect(byName.id).toMatchObject({ type: 'uuid', nullable: false });
    expect(byName.email).toMatchObject({ type: 'character varying(255)', nullable: true });
    expect(byName.raw_app_meta_data!.type).toBe('jsonb');
    expect(byName.raw_user_meta_data!.type).toBe('jsonb');
    expect(byName.phone).toMatchObject({ type: 'text', nullable: true });
    expect(byName.confirmed_at).toMatchObject({ type: 'timestamp with time zone', generated: 's' });
    expect(byName.confirmed_at!.default).toMatch(/LEAST\(email_confirmed_at, phone_confirmed_at\)/);
    expect(byName.email_change_confirm_status).toMatchObject({ type: 'smallint', default: '0' });
    expect(byName.is_sso_user).toMatchObject({ type: 'boolean', nullable: false, default: 'false' });
    expect(byName.is_anonymous).toMatchObject({ type: 'boolean', nullable: false, default: 'false' });
    expect(byName.created_at).toMatchObject({ type: 'timestamp with time zone', default: null });

    const [table] = await t.query<{ owner: string; rls: boolean; forced: boolean }>(`select relowner::regrole::text as owner,
      relrowsecurity as rls, relforcerowsecurity as forced from pg_class where oid = 'auth.users'::regclass`);
    expect(table).toEqual({ owner: 'supabase_auth_admin', rls: true, forced: false });
    const [policies] = await t.query<{ n: number }>(`select count(*)::int as n from pg_policy where polrelid = 'auth.users'::regclass`);
    expect(policies!.n).toBe(0);
  });

  it.skipIf(skip)('refuses auth.users to every API role, service_role included', async () => {
    for (const role of apiRoles) {
      const state = await sqlState(
        t.transaction(async (q) => {
          await q(`set local role ${role}`);
          return q('select id from auth.users');
        }),
      );
      expect(state, role).toBe('42501');
    }
  });

  it.skipIf(skip)('gives the migrating role every privilege on auth.users (SELECT with grant option), as Supabase gives postgres', async () => {
    const [p] = await t.query<Record<string, boolean>>(`select
        has_table_privilege($1, 'auth.users', 'select,insert,update,delete,truncate,references,trigger') as all_privileges,
        has_table_privilege($1, 'auth.users', 'select with grant option') as select_grantable`, [migratingRole]);
    expect(p).toEqual({ all_privileges: true, select_grantable: true });
  });

  it.skipIf(skip)('behaves like Supabase Auth writes it: confirmed_at derived, email unique unless SSO, phone unique', async () => {
    const outcome = await t.transaction(async (q) => {
      await q('set local role supabase_auth_admin');
      const [inserted] = await q<{ same: boolean; phone_change: string; status: number }>(
        `insert into auth.users (id, email, email_confirmed_at, phone) values ($1, 'a@example.com', now() - interval '1 day', '+15550001')
         returning confirmed_at = email_confirmed_at as same, phone_change, email_change_confirm_status as status`,
        [randomUUID()],
      );
      const attempt = async (text: string, params: unknown[]) => {
        await q('savepoint attempt');
        const state = await sqlState(q(text, params)).catch(() => 'succeeded');
        await q('rollback to savepoint attempt');
        return state;
      };
      return {
        inserted,
        sameEmail: await attempt(`insert into auth.users (id, email) values ($1, 'a@example.com')`, [randomUUID()]),
        samePhone: await attempt(`insert into auth.users (id, phone) values ($1, '+15550001')`, [randomUUID()]),
        sameEmailSso: await attempt(`insert into auth.users (id, email, is_sso_user) values ($1, 'a@example.com', true)`, [randomUUID()]),
        badStatus: await attempt(`insert into auth.users (id, email_change_confirm_status) values ($1, 3)`, [randomUUID()]),
      };
    });
    expect(outcome).toEqual({
      inserted: { same: true, phone_change: '', status: 0 },
      sameEmail: '23505',
      samePhone: '23505',
      sameEmailSso: 'succeeded',
      badStatus: '23514',
    });
    const [count] = await t.query<{ n: number }>('select count(*)::int as n from auth.users');
    expect(count!.n).toBe(0);
  });

  it.skipIf(skip)('reads the signed-in user from request.jwt.claims as an API role', async () => {
    const sub = randomUUID();
    const claims = JSON.stringify({ sub, role: 'authenticated', email: 'claims@example.com', app_metadata: { provider: 'email' } });
    const [row] = await t.transaction(async (q) => {
      await q('set local role authenticated');
      await q(`select set_config('request.jwt.claims', $1, true)`, [claims]);
      return q<{ uid: string; role: string; email: string; jwt: Record<string, unknown>; who: string }>(
        'select auth.uid() as uid, auth.role() as role, auth.email() as email, auth.jwt() as jwt, current_user as who',
      );
    });
    expect(row).toEqual({ uid: sub, role: 'authenticated', email: 'claims@example.com', jwt: JSON.parse(claims), who: 'authenticated' });
  });

  it.skipIf(skip)('reads the older one-setting-per-claim form, which wins when both are set', async () => {
    const sub = randomUUID();
    const [row] = await t.transaction(async (q) => {
      await q('set local role anon');
      await q(`select set_config('request.jwt.claim.sub', $1, true)`, [sub]);
      await q(`select set_config('request.jwt.claim.role', 'anon', true)`);
      await q(`select set_config('request.jwt.claim.email', 'old@example.com', true)`);
      await q(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify({ sub: randomUUID(), role: 'authenticated' })]);
      return q<{ uid: string; role: string; email: string }>('select auth.uid() as uid, auth.role() as role, auth.email() as email');
    });
    expect(row).toEqual({ uid: sub, role: 'anon', email: 'old@example.com' });

    const [jwt] = await t.transaction(async (q) => {
      await q(`select set_config('request.jwt.claim', '{"sub":"from-claim"}', true)`);
      await q(`select set_config('request.jwt.claims', '{"sub":"from-claims"}', true)`);
      return q<{ sub: string }>(`select auth.jwt() ->> 'sub' as sub`);
    });
    expect(jwt!.sub).toBe('from-claim');
  });

  it.skipIf(skip)('returns null without claims, including after a transaction that set them (empty settings)', async () => {
    await t.transaction(async (q) => {
      await q(`select set_config('request.jwt.claims', $1, true)`, [JSON.stringify({ sub: randomUUID() })]);
    });
    const [row] = await t.transaction(async (q) => {
      await q('set local role anon');
      return q<Row>('select auth.uid() as uid, auth.role() as role, auth.email() as email, auth.jwt() as jwt');
    });
    expect(row).toEqual({ uid: null, role: null, email: null, jwt: null });
  });

  it.skipIf(skip)('defines the JWT helpers as Supabase does: SQL, stable, invoker, owned by supabase_auth_admin, callable by the API roles', async () => {
    const fns = await t.query<{ name: string; lang: string; volatility: string; definer: boolean; owner: string; result: string }>(`
      select p.proname as name, l.lanname as lang, p.provolatile::text as volatility, p.prosecdef as definer,
             p.proowner::regrole::text as owner, format_type(p.prorettype, null) as result
      from pg_proc p join pg_language l on l.oid = p.prolang
      where p.pronamespace = 'auth'::regnamespace order by 1`);
    expect(fns).toEqual([
      { name: 'email', lang: 'sql', volatility: 's', definer: false, owner: 'supabase_auth_admin', result: 'text' },
      { name: 'jwt', lang: 'sql', volatility: 's', definer: false, owner: 'supabase_auth_admin', result: 'jsonb' },
      { name: 'role', lang: 'sql', volatility: 's', definer: false, owner: 'supabase_auth_admin', result: 'text' },
      { name: 'uid', lang: 'sql', volatility: 's', definer: false, owner: 'supabase_auth_admin', result: 'uuid' },
    ]);
    for (const role of apiRoles) {
      for (const fn of ['uid', 'role', 'email', 'jwt']) {
        const [p] = await t.query<{ ok: boolean }>(`select has_function_privilege($1, $2, 'execute') as ok`, [role, `auth.${fn}()`]);
        expect(p!.ok, `${role} auth.${fn}()`).toBe(true);
      }
    }
  });

  // Only a server has several databases sharing one set of roles.
  if (kind === 'server') it.skipIf(skip)('can prepare several databases of one server at the same time', async () => {
    const others = await Promise.all([t.anotherDatabase!(), t.anotherDatabase!(), t.anotherDatabase!()]);
    await Promise.all([t, ...others].map((db) => applySupabaseEmulation((text) => db.exec(text))));
    for (const db of others) {
      const [row] = await db.query<{ users: string | null; uid: string | null }>(
        `select to_regclass('auth.users')::text as users, auth.uid()::text as uid`,
      );
      expect(row).toEqual({ users: 'auth.users', uid: null });
    }
  });
});
