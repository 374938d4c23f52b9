import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, type TestDatabase } from '../support/database.js';

// The checks of Supabase's database linter, as catalog queries over the
// migrated schema. Each returns the offenders; each must find none. Exposed
// schema: public (what the API serves).
let t: TestDatabase;
beforeAll(async () => {
  t = await freshDatabase();
});
afterAll(() => t?.close());

const offenders = (query: ReturnType<typeof sql>) => t.rows<{ name: string }>(query).then((rows) => rows.map((r) => r.name));

describe('database linter', () => {
  it('no table in public without RLS', async () => {
    expect(await offenders(sql`select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relrowsecurity`)).toEqual([]);
  });

  it('no table with RLS on but no policy', async () => {
    expect(await offenders(sql`select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind in ('r', 'p') and c.relrowsecurity
        and not exists (select 1 from pg_policies p where p.schemaname = 'public' and p.tablename = c.relname)`)).toEqual([]);
  });

  it('no auth.uid(), auth.role(), auth.jwt() or auth.email() in a policy without a sub-select', async () => {
    const policies = await t.rows<{ name: string; expr: string }>(sql`select tablename || '.' || policyname as name,
      coalesce(qual, '') || ' ' || coalesce(with_check, '') as expr from pg_policies where schemaname = 'public'`);
    const bare = policies.filter((p) => {
      const calls = p.expr.match(/auth\.(uid|role|jwt|email)\(\)/g) ?? [];
      const wrapped = p.expr.match(/\(\s*SELECT auth\.(uid|role|jwt|email)\(\)/gi) ?? [];
      return calls.length !== wrapped.length;
    });
    expect(policies.length).toBeGreaterThan(10);
    expect(bare.map((p) => p.name)).toEqual([]);
  });

  it('no two permissive policies for the same role and action', async () => {
    expect(await offenders(sql`
      with expanded as (
        select p.tablename, r.role, c.cmd
        from pg_policies p
        cross join lateral unnest(p.roles) as r(role)
        cross join lateral unnest(case when p.cmd = 'ALL' then array['SELECT','INSERT','UPDATE','DELETE'] else array[p.cmd] end) as c(cmd)
        where p.schemaname = 'public' and p.permissive = 'PERMISSIVE')
      select tablename || ' ' || role || ' ' || cmd as name from expanded
      group by tablename, role, cmd having count(*) > 1`)).toEqual([]);
  });

  it('every policy names its role (none for public)', async () => {
    expect(await offenders(sql`select tablename || '.' || policyname as name from pg_policies
      where schemaname = 'public' and 'public' = any(roles)`)).toEqual([]);
  });

  it('no using (true) or with check (true) on a write', async () => {
    expect(await offenders(sql`select tablename || '.' || policyname as name from pg_policies
      where schemaname = 'public' and cmd in ('INSERT', 'UPDATE', 'DELETE', 'ALL')
        and (qual = 'true' or with_check = 'true')`)).toEqual([]);
  });

  it('no policy reads user metadata', async () => {
    expect(await offenders(sql`select tablename || '.' || policyname as name from pg_policies
      where schemaname = 'public' and (coalesce(qual, '') || coalesce(with_check, '')) ~* 'user_metadata|raw_user_meta_data'`)).toEqual([]);
  });

  it('no function of ours with a mutable search_path', async () => {
    expect(await offenders(sql`select n.nspname || '.' || p.proname as name from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where n.nspname in ('public', 'private')
        and not exists (select 1 from unnest(coalesce(p.proconfig, '{}')) c where c like 'search_path=%')`)).toEqual([]);
  });

  it('no SECURITY DEFINER function in public executable by anon or authenticated', async () => {
    expect(await offenders(sql`select p.proname || ' by ' || r.rolname as name
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      cross join (select rolname from pg_roles where rolname in ('anon', 'authenticated')) r
      where n.nspname = 'public' and p.prosecdef and has_function_privilege(r.rolname, p.oid, 'execute')`)).toEqual([]);
  });

  it('no view runs with its owner\'s rights, and none shows auth.users', async () => {
    expect(await offenders(sql`select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind in ('v', 'm')
        and not coalesce(c.reloptions, '{}') @> array['security_invoker=true']`)).toEqual([]);
    expect(await offenders(sql`select distinct v.relname as name from pg_depend d
      join pg_rewrite w on w.oid = d.objid join pg_class v on v.oid = w.ev_class
      join pg_namespace vn on vn.oid = v.relnamespace
      where d.refobjid = 'auth.users'::regclass and vn.nspname = 'public'`)).toEqual([]);
  });

  it('no foreign key without an index that starts with its columns', async () => {
    expect(await offenders(sql`
      select c.conrelid::regclass::text || '.' || c.conname as name
      from pg_constraint c join pg_namespace n on n.oid = c.connamespace
      where c.contype = 'f' and n.nspname = 'public'
        and not exists (
          select 1 from pg_index i
          where i.indrelid = c.conrelid
            and (i.indkey::int2[])[0:cardinality(c.conkey) - 1] @> c.conkey
            and (i.indkey::int2[])[0:cardinality(c.conkey) - 1] <@ c.conkey)`)).toEqual([]);
  });

  it('no duplicate indexes', async () => {
    expect(await offenders(sql`select string_agg(indexrelid::regclass::text, ' = ') as name from pg_index i
      join pg_class c on c.oid = i.indrelid join pg_namespace n on n.oid = c.relnamespace where n.nspname = 'public'
      group by indrelid, indkey::text, coalesce(indexprs::text, ''), coalesce(indpred::text, '') having count(*) > 1`)).toEqual([]);
  });
});
