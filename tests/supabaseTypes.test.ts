// The rpc function map (src/supabase/functions.ts) against the migrated
// database: every function of `public` is declared with the same arguments,
// result and EXECUTE grants, and nothing declared is missing. A function added
// or changed in a migration without its type fails here.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import * as schema from '../src/schema/index.js';
import { rpcFunctionSpecs, type RpcFunctionSpec } from '../src/supabase/functions.js';
import { freshDatabase, sql, type TestDatabase } from './support/database.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await freshDatabase();
});
afterAll(async () => {
  await database?.close();
});

interface CatalogFunction {
  name: string;
  arg_names: string[] | null;
  arg_types: string[];
  arg_modes: string[] | null;
  defaults: number;
  result: string;
  anon: boolean;
  authenticated: boolean;
  service_role: boolean;
}

function specFromCatalog(f: CatalogFunction): RpcFunctionSpec {
  const names = f.arg_names ?? [];
  // Only input arguments are rpc arguments (OUT and TABLE columns are results).
  const inputs = f.arg_types.map((type, i) => ({ type, name: names[i] ?? `$${i + 1}`, mode: f.arg_modes?.[i] ?? 'i' }));
  const args = inputs.filter((a) => a.mode === 'i' || a.mode === 'b' || a.mode === 'v');
  const spec: RpcFunctionSpec = {
    args: Object.fromEntries(args.map((a) => [a.name, a.type])),
    returns: f.result,
    executableBy: (['anon', 'authenticated', 'service_role'] as const).filter((role) => f[role]),
  };
  return f.defaults > 0 ? { ...spec, optional: args.slice(args.length - f.defaults).map((a) => a.name) } : spec;
}

async function catalogSpecs(): Promise<Record<string, RpcFunctionSpec>> {
  const rows = await database.rows<CatalogFunction>(sql`
      select p.proname as name,
             p.proargnames as arg_names,
             array(select format_type(t, null) from unnest(coalesce(p.proallargtypes, p.proargtypes::oid[])) as t) as arg_types,
             p.proargmodes::text[] as arg_modes,
             p.pronargdefaults::int as defaults,
             pg_get_function_result(p.oid) as result,
             has_function_privilege('anon', p.oid, 'execute') as anon,
             has_function_privilege('authenticated', p.oid, 'execute') as authenticated,
             has_function_privilege('service_role', p.oid, 'execute') as service_role
        from pg_proc p
        join pg_namespace n on n.oid = p.pronamespace
       where n.nspname = 'public'
         and p.prokind = 'f'
         and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')
       order by p.proname`);
  const names = rows.map((r) => r.name);
  expect(new Set(names).size, 'overloaded functions cannot be told apart by rpc').toBe(names.length);
  return Object.fromEntries(rows.map((r) => [r.name, specFromCatalog(r)]));
}

function declaredSpecs(): Record<string, RpcFunctionSpec> {
  return Object.fromEntries(
    Object.entries(rpcFunctionSpecs as Record<string, RpcFunctionSpec>).map(([name, spec]) => [
      name,
      { ...spec, executableBy: [...spec.executableBy].sort() },
    ]),
  );
}

describe('rpc function map', () => {
  test('declares exactly the functions of the public schema, as the database has them', async () => {
    expect(declaredSpecs()).toEqual(await catalogSpecs());
  });

  test('the comparison notices a function that is not declared', async () => {
    // A function created in this test's own database must make the map stale.
    await database.query(`create function public.undeclared_probe(p_n integer) returns integer language sql as 'select p_n'`);
    try {
      const actual = await catalogSpecs();
      // Nobody may execute a new function until its source grants it (default privileges).
      expect(actual.undeclared_probe).toEqual({ args: { p_n: 'integer' }, returns: 'integer', executableBy: [] });
      expect(declaredSpecs()).not.toEqual(actual);
    } finally {
      await database.query('drop function public.undeclared_probe(integer)');
    }
  });
});

describe('enum names', () => {
  test("each exported enum's SQL name is its export name in snake_case (how Database['public']['Enums'] is keyed)", () => {
    const enums = Object.entries(schema as Record<string, unknown>).filter(
      (entry): entry is [string, { enumName: string }] =>
        typeof entry[1] === 'function' && typeof (entry[1] as { enumName?: unknown }).enumName === 'string',
    );
    expect(enums.length).toBeGreaterThan(0);
    for (const [exportName, e] of enums) {
      expect(e.enumName).toBe(exportName.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`));
    }
  });
});
