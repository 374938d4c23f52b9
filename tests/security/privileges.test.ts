// Privileges from the catalog: every relation, sequence, function and schema
// of public and private, for every API role and PUBLIC. The access matrix
// tries SELECT/INSERT/UPDATE/DELETE row by row; this covers the privileges it
// does not (TRUNCATE, TRIGGER, REFERENCES, sequences, EXECUTE), the default
// privileges that decide what tomorrow's objects get, and the attacks they
// allowed.
import { sql, type SQL } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withClaims, type JwtClaims } from '../../src/auth/withClaims.js';
import { queryRows } from '../../src/db.js';
import { pgErrorOf } from '../../src/errors.js';
import { signUpLocal } from '../../src/local/auth.js';
import { rpcFunctionSpecs } from '../../src/supabase/functions.js';
import { freshDatabase, type TestDatabase } from '../support/database.js';

let t: TestDatabase;
let alice: string;
const grantees = ['public', 'anon', 'authenticated', 'service_role'];

interface Grant {
  object: string;
  kind: string;
  grantee: string;
  privilege: string;
}

beforeAll(async () => {
  t = await freshDatabase();
  alice = await signUpLocal(t.db, { email: 'alice@example.com' });
});
afterAll(() => t?.close());

/** Every privilege an API role or PUBLIC holds on anything in public or private, table- and column-level. */
async function grants(): Promise<Grant[]> {
  return t.rows<Grant>(sql`
    select n.nspname || '.' || c.relname as object, c.relkind::text as kind,
           case when a.grantee = 0 then 'public' else pg_get_userbyid(a.grantee) end as grantee, a.privilege_type as privilege
      from pg_class c join pg_namespace n on n.oid = c.relnamespace, aclexplode(c.relacl) a
     where n.nspname in ('public', 'private') and c.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
    union all
    select n.nspname || '.' || c.relname || '.' || at.attname, 'column',
           case when a.grantee = 0 then 'public' else pg_get_userbyid(a.grantee) end, a.privilege_type
      from pg_attribute at join pg_class c on c.oid = at.attrelid join pg_namespace n on n.oid = c.relnamespace,
           aclexplode(at.attacl) a
     where n.nspname in ('public', 'private') and at.attacl is not null
    union all
    select format('%s.%s(%s)', n.nspname, p.proname, oidvectortypes(p.proargtypes)), 'function',
           case when a.grantee = 0 then 'public' else pg_get_userbyid(a.grantee) end, a.privilege_type
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace,
           aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
     where n.nspname in ('public', 'private')
    union all
    select n.nspname, 'schema', case when a.grantee = 0 then 'public' else pg_get_userbyid(a.grantee) end, a.privilege_type
      from pg_namespace n, aclexplode(n.nspacl) a
     where n.nspname = 'private'`);
}

const of = (all: Grant[], filter: (g: Grant) => boolean) =>
  all.filter((g) => grantees.includes(g.grantee) && filter(g)).map((g) => `${g.grantee} ${g.privilege} on ${g.object}`).sort();

describe('privileges of every object, for every role', () => {
  it('no API role holds TRUNCATE, TRIGGER, REFERENCES or MAINTAIN on anything, views included', async () => {
    // MAINTAIN (PostgreSQL 17+) allows VACUUM, REINDEX and LOCK TABLE: Supabase's "grant all" gave it to every API role.
    expect(of(await grants(), (g) => ['TRUNCATE', 'TRIGGER', 'REFERENCES', 'MAINTAIN'].includes(g.privilege))).toEqual([]);
  });

  it('no API role holds anything on a sequence (identity columns need none; setval is UPDATE)', async () => {
    expect(of(await grants(), (g) => g.kind === 'S')).toEqual([]);
    const sequences = await t.rows<{ name: string }>(sql`select c.relname as name from pg_class c
      join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public' and c.relkind = 'S'`);
    expect(sequences.length).toBeGreaterThanOrEqual(4);
  });

  it('anon and PUBLIC hold nothing at all; private is no API role\'s but for looking names up', async () => {
    const all = await grants();
    expect(of(all, (g) => g.grantee === 'anon' || g.grantee === 'public')).toEqual([]);
    expect(of(all, (g) => g.kind === 'schema')).toEqual(['authenticated USAGE on private', 'service_role USAGE on private']);
  });

  it('EXECUTE on functions of public is exactly what the rpc map declares; private helpers are executable only where policies and triggers need them', async () => {
    const all = await grants();
    const declared = Object.entries(rpcFunctionSpecs).flatMap(([name, spec]) =>
      spec.executableBy.map((role) => `${role} EXECUTE on public.${name}`),
    );
    const actual = of(all, (g) => g.kind === 'function' && g.object.startsWith('public.')).map((g) => g.replace(/\(.*\)$/, ''));
    expect(actual).toEqual(declared.sort());
    expect(of(all, (g) => g.kind === 'function' && g.object.startsWith('private.'))).toEqual([
      // Policies run as the querying role and call is_admin; the session trigger runs as the caller and raises through these.
      // The organisation functions of the API hand over to their namesakes here.
      'authenticated EXECUTE on private.accept_invitation(text)',
      'authenticated EXECUTE on private.bad_input(text, text, text)',
      'authenticated EXECUTE on private.create_organisation(text)',
      'authenticated EXECUTE on private.first_negative(jsonb, text[])',
      'authenticated EXECUTE on private.get_grant_balances(uuid, uuid)',
      'authenticated EXECUTE on private.get_organisation_quota_status(uuid, uuid)',
      'authenticated EXECUTE on private.invite_member(uuid, text, organisation_role, interval)',
      'authenticated EXECUTE on private.is_admin()',
      'authenticated EXECUTE on private.managed_organisations()',
      'authenticated EXECUTE on private.member_organisations()',
      'authenticated EXECUTE on private.quota_period_start(integer, timestamp with time zone)',
      'authenticated EXECUTE on private.remove_member(uuid, uuid)',
      'authenticated EXECUTE on private.revoke_invitation(uuid)',
      'authenticated EXECUTE on private.row_rule_broken(text, text, text)',
      'authenticated EXECUTE on private.set_default_member_caps(uuid, bigint, numeric)',
      'authenticated EXECUTE on private.set_member_caps(uuid, uuid, bigint, numeric)',
      'authenticated EXECUTE on private.set_member_role(uuid, uuid, organisation_role)',
      'service_role EXECUTE on private.bad_input(text, text, text)',
      'service_role EXECUTE on private.first_negative(jsonb, text[])',
      'service_role EXECUTE on private.get_grant_balances(uuid, uuid)',
      'service_role EXECUTE on private.get_organisation_quota_status(uuid, uuid)',
      'service_role EXECUTE on private.is_admin()',
      'service_role EXECUTE on private.managed_organisations()',
      'service_role EXECUTE on private.member_organisations()',
      'service_role EXECUTE on private.quota_period_start(integer, timestamp with time zone)',
      'service_role EXECUTE on private.row_rule_broken(text, text, text)',
      'service_role EXECUTE on private.uuid_v7()',
    ]);
  });

  it('default privileges give objects created later nothing', async () => {
    const rows = await t.rows<{ role: string; schema: string | null; kind: string; grantee: string; privilege: string }>(sql`
      select pg_get_userbyid(d.defaclrole) as role, n.nspname as schema, d.defaclobjtype::text as kind,
             case when a.grantee = 0 then 'public' else pg_get_userbyid(a.grantee) end as grantee, a.privilege_type as privilege
        from pg_default_acl d left join pg_namespace n on n.oid = d.defaclnamespace, aclexplode(d.defaclacl) a
       where d.defaclrole = (select oid from pg_roles where rolname = current_user)`);
    expect(rows.filter((r) => grantees.includes(r.grantee))).toEqual([]);
  });
});

describe('what those privileges allowed, tried', () => {
  const as = (claims: JwtClaims, statement: SQL) => withClaims(t.db, claims, (tx) => queryRows(tx, statement));
  const code = async (p: Promise<unknown>) => pgErrorOf(await p.then(() => null, (e) => e)).code;
  const everyone: JwtClaims[] = [{ role: 'anon' }, { role: 'service_role' }];
  beforeAll(() => {
    everyone.push({ role: 'authenticated', sub: alice });
  });

  it('nobody moves the message sequence to its end (every later insert would fail)', async () => {
    for (const claims of everyone) {
      expect(await code(as(claims, sql`select setval('public.agent_messages_id_seq', 9223372036854775807)`)), claims.role).toBe('42501');
      expect(await code(as(claims, sql`select nextval('public.ai_usage_events_id_seq')`)), claims.role).toBe('42501');
    }
  });

  it('nobody locks the event log (blocking every recording) or reindexes it', async () => {
    for (const claims of everyone) {
      expect(await code(as(claims, sql`lock table public.ai_usage_events in access exclusive mode`)), claims.role).toBe('42501');
      expect(await code(as(claims, sql`lock table public.agent_sessions in access exclusive mode`)), claims.role).toBe('42501');
    }
  });

  it('nobody hangs a trigger on the monthly view or a table, or truncates one', async () => {
    for (const claims of everyone) {
      expect(await code(as(claims, sql`create trigger stuck instead of insert on public.ai_usage_monthly
        for each row execute function private.set_updated_at()`)), claims.role).toBe('42501');
      expect(await code(as(claims, sql`truncate public.ai_providers`)), claims.role).toBe('42501');
    }
  });

  it('nobody creates objects in public or private (a table of their own could pin ours with a foreign key)', async () => {
    for (const claims of everyone) {
      expect(await code(as(claims, sql`create table public.mine (id uuid references public.profiles (id))`)), claims.role).toBe('42501');
      expect(await code(as(claims, sql`create function private.mine() returns int language sql as 'select 1'`)), claims.role).toBe('42501');
    }
  });
});
