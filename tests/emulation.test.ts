import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withClaims } from '../src/auth/withClaims.js';
import { queryRows } from '../src/db.js';
import { applySupabaseEmulation } from '../src/local/supabaseEmulation.js';
import { freshDatabase, pgError, type TestDatabase } from './support/database.js';

// The local stand-in for a Supabase project must behave like one, or tests
// pass here that would leak there.
let t: TestDatabase;
beforeAll(async () => {
  t = await freshDatabase();
});
afterAll(() => t?.close());

describe('Supabase emulation', () => {
  it('is idempotent: applying it again changes nothing and fails on nothing', async () => {
    await applySupabaseEmulation((text) => t.db.execute(sql.raw(text)));
    await applySupabaseEmulation((text) => t.db.execute(sql.raw(text)));
  });

  it("has Supabase's roles with their attributes", async () => {
    const roles = await t.rows<{ rolname: string; rolcanlogin: boolean; rolinherit: boolean; rolbypassrls: boolean; rolsuper: boolean }>(sql`
      select rolname, rolcanlogin, rolinherit, rolbypassrls, rolsuper from pg_roles
      where rolname in ('anon', 'authenticated', 'service_role', 'authenticator', 'supabase_auth_admin') order by rolname`);
    expect(roles).toEqual([
      { rolname: 'anon', rolcanlogin: false, rolinherit: false, rolbypassrls: false, rolsuper: false },
      { rolname: 'authenticated', rolcanlogin: false, rolinherit: false, rolbypassrls: false, rolsuper: false },
      { rolname: 'authenticator', rolcanlogin: true, rolinherit: false, rolbypassrls: false, rolsuper: false },
      { rolname: 'service_role', rolcanlogin: false, rolinherit: false, rolbypassrls: true, rolsuper: false },
      { rolname: 'supabase_auth_admin', rolcanlogin: true, rolinherit: false, rolbypassrls: false, rolsuper: false },
    ]);
    const [m] = await t.rows<{ ok: boolean }>(sql`select pg_has_role('authenticator', 'anon', 'member')
      and pg_has_role('authenticator', 'authenticated', 'member') and pg_has_role('authenticator', 'service_role', 'member') as ok`);
    expect(m!.ok).toBe(true);
  });

  it('gives the API roles everything new in public by default (what makes a table without RLS a leak)', async () => {
    await t.rows(sql`create table public.emulation_probe (id int)`);
    try {
      const [p] = await t.rows<Record<string, boolean>>(sql`select
        has_table_privilege('anon', 'public.emulation_probe', 'select,insert,update,delete') as anon,
        has_table_privilege('authenticated', 'public.emulation_probe', 'select,insert,update,delete') as authenticated,
        has_table_privilege('service_role', 'public.emulation_probe', 'select,insert,update,delete') as service_role`);
      expect(p).toEqual({ anon: true, authenticated: true, service_role: true });
      const rows = await withClaims(t.db, { role: 'anon' }, (tx) => queryRows(tx, sql`select * from public.emulation_probe`));
      expect(rows).toEqual([]);
    } finally {
      await t.rows(sql`drop table public.emulation_probe`);
    }
  });

  it('keeps auth.users away from the API roles; Supabase Auth owns it', async () => {
    for (const role of ['anon', 'authenticated'] as const) {
      const e = pgError(await withClaims(t.db, { role }, (tx) => queryRows(tx, sql`select id from auth.users`)).catch((x) => x));
      expect(e.code).toBe('42501');
    }
    const [owner] = await t.rows<{ owner: string }>(sql`select pg_get_userbyid(relowner) as owner from pg_class where oid = 'auth.users'::regclass`);
    expect(owner!.owner).toBe('supabase_auth_admin');
    const columns = await t.rows<{ column_name: string }>(sql`select column_name from information_schema.columns
      where table_schema = 'auth' and table_name = 'users'`);
    expect(columns.map((c) => c.column_name)).toEqual(expect.arrayContaining([
      'id', 'email', 'phone', 'raw_user_meta_data', 'raw_app_meta_data', 'email_confirmed_at', 'phone_confirmed_at',
      'last_sign_in_at', 'created_at', 'updated_at', 'is_anonymous', 'deleted_at', 'confirmed_at', 'is_sso_user', 'banned_until',
    ]));
  });

  it('auth.uid(), auth.role(), auth.email() and auth.jwt() read the request claims, in both forms', async () => {
    const id = '11111111-2222-4333-8444-555555555555';
    const [now] = await withClaims(t.db, { role: 'authenticated', sub: id, email: 'c@example.com' }, (tx) =>
      queryRows<{ uid: string; role: string; email: string; jwt: { sub: string } }>(tx,
        sql`select auth.uid() as uid, auth.role() as role, auth.email() as email, auth.jwt() as jwt`));
    expect(now).toMatchObject({ uid: id, role: 'authenticated', email: 'c@example.com', jwt: { sub: id } });
    const [old] = await t.db.transaction(async (tx) => {
      await tx.execute(sql`select set_config('request.jwt.claim.sub', ${id}, true)`);
      return queryRows<{ uid: string }>(tx, sql`select auth.uid() as uid`);
    });
    expect(old!.uid).toBe(id);
    const [none] = await t.rows<{ uid: string | null; jwt: unknown }>(sql`select auth.uid() as uid, auth.jwt() as jwt`);
    expect(none).toEqual({ uid: null, jwt: null });
  });
});
