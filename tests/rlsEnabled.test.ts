import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, sql, type TestDatabase } from './support/database.js';

let t: TestDatabase;
beforeAll(async () => {
  t = await freshDatabase();
});
afterAll(() => t?.close());

describe('row-level security is on everywhere', () => {
  it('every table in public has RLS enabled', async () => {
    const rows = await t.rows<{ table: string; rls: boolean }>(sql`
      select c.relname as table, c.relrowsecurity as rls
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind in ('r', 'p')
      order by 1`);
    expect(rows.length).toBeGreaterThanOrEqual(11);
    expect(rows.filter((r) => !r.rls).map((r) => r.table)).toEqual([]);
  });

  it('every view in public runs with the caller\'s rights (security_invoker)', async () => {
    const rows = await t.rows<{ view: string; options: string[] | null }>(sql`
      select c.relname as view, c.reloptions as options
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind in ('v', 'm')`);
    expect(rows.map((r) => r.view).sort()).toEqual(['ai_usage_monthly', 'organisation_member_usage_monthly', 'organisation_usage_monthly', 'users']);
    for (const row of rows) expect(row.options ?? []).toContain('security_invoker=true');
  });

  it('a policy that lets admins through says so in its name', async () => {
    const rows = await t.rows<{ name: string; admin: boolean }>(sql`
      select policyname as name,
             coalesce(qual, '') || coalesce(with_check, '') like '%is_admin()%' as admin
      from pg_policies where schemaname = 'public' order by 1`);
    const adminPaths = rows.filter((r) => r.admin).map((r) => r.name);
    expect(adminPaths.length).toBeGreaterThan(0);
    for (const name of adminPaths) expect(name).toMatch(/admins? /);
    // And no policy claims an admin path it does not have.
    for (const row of rows.filter((r) => !r.admin)) expect(row.name).not.toMatch(/admin/);
  });
});
