// Our `Database` type (derived from the Drizzle schema and the rpc function
// map) against the one Supabase's own generator, postgres-meta, writes for
// the migrated database: the same tables, views, functions and enums, and for
// each the same row, insert and update types, arguments and results. The
// comparison is a TypeScript file checked by tsc, so it is TypeScript's own
// assignability that decides.
//
// Where the two differ on purpose, the check says so explicitly (see
// `knownDifferences` below and README.md, "supabase-js types without the
// Supabase CLI"): everything else must agree.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { freshDatabase, sql, target, type TestDatabase } from './support/database.js';

const run = promisify(execFile);
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const generatorScript = join(root, 'node_modules/@supabase/postgres-meta/dist/server/server.js');
const tsc = join(root, 'node_modules/typescript/bin/tsc');

/** Why this file does not run on PGlite. */
const needsServerUrl = 'postgres-meta connects to a PostgreSQL server by URL; PGlite has none';

/**
 * The differences we keep on purpose, one by one (the reasons are in
 * README.md too). Systematic ones are read from the catalog below: numeric
 * columns, NOT NULL json columns, columns written only by the database.
 */
const knownDifferences = {
  /**
   * Columns whose SQL type the generator does not map (it says `unknown`).
   * PostgREST sends inet as a JSON string, and ours says `string`.
   */
  opaqueToGenerator: { audit_log: ['ip_address'] } as Record<string, string[]>,
};

interface CatalogColumn {
  relation: string;
  kind: 'r' | 'v';
  column: string;
  type: string;
  not_null: boolean;
  /** GENERATED ALWAYS (identity or stored expression): never written by a client. */
  generated_always: boolean;
}

/** The public schema's tables, views and columns, and its functions. */
async function catalog(database: TestDatabase) {
  const columns = await database.rows<CatalogColumn>(sql`
    -- A partitioned table (the event log) is a table to the API; its partitions live outside public.
    select c.relname as relation, case c.relkind when 'p' then 'r' else c.relkind::text end as kind, a.attname as column,
           format_type(a.atttypid, a.atttypmod) as type, a.attnotnull as not_null,
           (a.attidentity = 'a' or a.attgenerated <> '') as generated_always
      from pg_class c
      join pg_namespace n on n.oid = c.relnamespace
      join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
     where n.nspname = 'public' and c.relkind in ('r', 'p', 'v')
     order by c.relname, a.attnum`);
  const functions = await database.rows<{ name: string }>(sql`
    select p.proname as name
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
     where n.nspname = 'public' and p.prokind = 'f'
       and not exists (select 1 from pg_depend d where d.objid = p.oid and d.deptype = 'e')
     order by p.proname`);
  const names = (kind: 'r' | 'v') => [...new Set(columns.filter((c) => c.kind === kind).map((c) => c.relation))];
  return { columns, tables: names('r'), views: names('v'), functions: functions.map((f) => f.name) };
}

/** Runs postgres-meta in type-generation mode against `url`; returns the TypeScript it prints. */
async function generateTypes(url: string): Promise<string> {
  const { stdout } = await run(process.execPath, [generatorScript], {
    cwd: root,
    timeout: 60_000,
    maxBuffer: 16 * 1024 * 1024,
    env: {
      ...process.env,
      PG_META_DB_URL: url,
      PG_META_GENERATE_TYPES: 'typescript',
      PG_META_GENERATE_TYPES_INCLUDED_SCHEMAS: 'public',
      // As the Supabase CLI asks for them: one-to-one relationships told
      // apart, and the PostgREST version in the type (ours says 12).
      PG_META_GENERATE_TYPES_DETECT_ONE_TO_ONE_RELATIONSHIPS: 'true',
      PG_META_POSTGREST_VERSION: '12',
    },
  });
  return stdout;
}

/** A union of string literals as TypeScript source (`never` when empty). */
const union = (names: readonly string[]) => (names.length ? names.map((n) => JSON.stringify(n)).join(' | ') : 'never');

/** Per relation, the names of the catalog columns that pass `keep`, as a TypeScript object type. */
function columnMap(columns: CatalogColumn[], keep: (c: CatalogColumn) => boolean): string {
  const by = new Map<string, string[]>();
  for (const c of columns.filter(keep)) by.set(c.relation, [...(by.get(c.relation) ?? []), c.column]);
  return `{ ${[...by].map(([relation, names]) => `${relation}: ${union(names)};`).join(' ')} }`;
}

/**
 * The TypeScript file that compares the two `Database` types. Every line that
 * fails names what disagrees: `Type '"ip_address"' does not satisfy the
 * constraint 'never'` on the line of `audit_log`'s Row.
 */
function checkSource(cat: Awaited<ReturnType<typeof catalog>>, declaredPath: string, functionsPath: string): string {
  const lines = [
    `// Written by tests/supabaseGenerator.test.ts: our Database type against the generator's.`,
    `import type { Database as Generated } from './supabase.js';`,
    `import type { Database as Declared } from ${JSON.stringify(declaredPath)};`,
    `import type { rpcNullableColumns } from ${JSON.stringify(functionsPath)};`,
    ``,
    `type G = Generated['public'];`,
    `type D = Declared['public'];`,
    ``,
    `type IsAny<T> = 0 extends 1 & T ? true : false;`,
    `/** Mutually assignable, and neither is any (any would agree with everything). */`,
    `type Same<A, B> = IsAny<A> extends true ? false : IsAny<B> extends true ? false : [A] extends [B] ? ([B] extends [A] ? true : false) : false;`,
    `/** The keys on which two object types disagree, or that only one of them has. */`,
    `type Mismatched<A, B> = \`\${Extract<{ [K in keyof A | keyof B]: K extends keyof A ? (K extends keyof B ? (Same<A[K], B[K]> extends true ? never : K) : K) : K }[keyof A | keyof B], string>}\`;`,
    `type Agree<Mismatches extends never> = Mismatches;`,
    `type Holds<T extends true> = T;`,
    `type Row<T> = T extends readonly (infer E)[] ? E : T;`,
    `/** Makes the named columns nullable. */`,
    `type OrNull<T, Columns> = { [K in keyof T]: K extends Columns ? T[K] | null : T[K] };`,
    `/** Lets the named columns also take a string. */`,
    `type OrString<T, Columns> = { [K in keyof T]: K extends Columns ? T[K] | string : T[K] };`,
    `type Cols<M, Name> = Name extends keyof M ? M[Name] : never;`,
    ``,
    `// Known differences, read from the catalog (see README.md):`,
    `// - numeric: ours also takes a decimal string when writing (PostgREST accepts one, and it stays exact);`,
    `type NumericColumns = ${columnMap(cat.columns, (c) => c.kind === 'r' && /^numeric\b/.test(c.type))};`,
    `// - NOT NULL json: the generator leaves null out of rows, but such a column may hold the JSON value`,
    `//   null ('null'::jsonb), which PostgREST reads back as null; ours keeps it (writes leave it out on both sides);`,
    `type NotNullJsonColumns = ${columnMap(cat.columns, (c) => c.kind === 'r' && c.not_null && /^jsonb?$/.test(c.type))};`,
    `// - GENERATED ALWAYS columns: the generator lists them as \`?: never\` on insert and update, ours leaves them out;`,
    `type GeneratedColumns = ${columnMap(cat.columns, (c) => c.kind === 'r' && c.generated_always)};`,
    `// - types the generator does not map: \`unknown\` there, what PostgREST sends here;`,
    `type OpaqueColumns = { ${Object.entries(knownDifferences.opaqueToGenerator)
      .map(([relation, names]) => `${relation}: ${union(names)};`)
      .join(' ')} };`,
    `// - function results: Postgres does not record which result columns may be null, so the generator`,
    `//   says none; ours makes nullable those that rpcNullableColumns names.`,
    `type NullableResults<F> = F extends keyof typeof rpcNullableColumns ? (typeof rpcNullableColumns)[F][number] : never;`,
    `// - views: Postgres reports every view column as nullable, so the generator makes all of them`,
    `//   nullable; ours keeps the nullability of the columns they are read from.`,
    ``,
    `// The same names on both sides.`,
    `type tables = Agree<Exclude<keyof G['Tables'], keyof D['Tables']> | Exclude<keyof D['Tables'], keyof G['Tables']>>;`,
    `type views = Agree<Exclude<keyof G['Views'], keyof D['Views']> | Exclude<keyof D['Views'], keyof G['Views']>>;`,
    `type functions = Agree<Exclude<keyof G['Functions'], keyof D['Functions']> | Exclude<keyof D['Functions'], keyof G['Functions']>>;`,
    `type enums = Agree<Mismatched<G['Enums'], D['Enums']>>;`,
    `type compositeTypes = Holds<Same<G['CompositeTypes'], D['CompositeTypes']>>;`,
    `type schemas = Agree<Exclude<keyof Generated, keyof Declared> | Exclude<keyof Declared, keyof Generated>>;`,
    `type postgrestVersion = Holds<Same<Generated['__InternalSupabase'], Declared['__InternalSupabase']>>;`,
    `type tablesNamedHere = Holds<Same<keyof G['Tables'], ${union(cat.tables)}>>;`,
    `type viewsNamedHere = Holds<Same<keyof G['Views'], ${union(cat.views)}>>;`,
    `type functionsNamedHere = Holds<Same<keyof G['Functions'], ${union(cat.functions)}>>;`,
    ``,
  ];
  for (const t of cat.tables) {
    const g = `G['Tables']['${t}']`;
    const d = `D['Tables']['${t}']`;
    const opaque = `Cols<OpaqueColumns, '${t}'>`;
    const generated = `Cols<GeneratedColumns, '${t}'>`;
    lines.push(
      `// ${t}`,
      `type ${t}_Row = Agree<Mismatched<Omit<OrNull<${g}['Row'], Cols<NotNullJsonColumns, '${t}'>>, ${opaque}>, Omit<${d}['Row'], ${opaque}>>>;`,
      ...(['Insert', 'Update'] as const).map(
        (part) =>
          `type ${t}_${part} = Agree<Mismatched<Omit<OrString<${g}['${part}'], Cols<NumericColumns, '${t}'>>, ${opaque} | ${generated}>, Omit<${d}['${part}'], ${opaque}>>>;`,
      ),
      ...(cat.columns.some((c) => c.relation === t && c.generated_always)
        ? [`type ${t}_generated = Holds<Same<Exclude<${g}['Insert'][${generated} & keyof ${g}['Insert']], undefined>, never>>;`]
        : []),
      // Still unknown to the generator: when it learns the type, this fails and the exception goes.
      ...(knownDifferences.opaqueToGenerator[t] ? [`type ${t}_opaque = Holds<Same<${g}['Row'][${opaque} & keyof ${g}['Row']], unknown>>;`] : []),
      `// Foreign keys between tables; the generator adds those PostgREST infers through views.`,
      `type ${t}_Relationships = Holds<Same<Exclude<${g}['Relationships'][number], { referencedRelation: keyof G['Views'] }>, ${d}['Relationships'][number]>>;`,
    );
  }
  for (const v of cat.views) {
    const g = `G['Views']['${v}']`;
    const d = `D['Views']['${v}']`;
    lines.push(
      `// view ${v}`,
      `type ${v}_Row = Agree<Mismatched<${g}['Row'], OrNull<${d}['Row'], keyof ${d}['Row']>>>;`,
      `// Ours types views as read-only and without relationships (the generator gives Insert and Update to views`,
      `// Postgres can write through, and the relationships PostgREST infers through them).`,
      `type ${v}_parts = Holds<Same<keyof ${d}, 'Row' | 'Relationships'>>;`,
      `type ${v}_Relationships = Holds<Same<${d}['Relationships'], []>>;`,
    );
  }
  for (const f of cat.functions) {
    const g = `G['Functions']['${f}']`;
    const d = `D['Functions']['${f}']`;
    lines.push(
      `// function ${f}`,
      `type ${f}_Args = Agree<Mismatched<${g}['Args'], ${d}['Args']>>;`,
      `type ${f}_ArgsWhole = Holds<Same<${g}['Args'], ${d}['Args']>>;`,
      `type ${f}_Returns = Agree<Mismatched<OrNull<Row<${g}['Returns']>, NullableResults<'${f}'>>, Row<${d}['Returns']>>>;`,
      `type ${f}_ReturnsScalar = Holds<Same<${g}['Returns'] extends readonly unknown[] ? 'rows' : ${g}['Returns'], ${d}['Returns'] extends readonly unknown[] ? 'rows' : ${d}['Returns']>>;`,
    );
  }
  return lines.join('\n') + '\n';
}

/** Type-checks `check.ts` in `dir`; returns tsc's exit code and output. */
async function typeCheck(dir: string): Promise<{ code: number; output: string }> {
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        skipLibCheck: true,
        types: [],
      },
      files: ['check.ts'],
    }),
  );
  try {
    const { stdout } = await run(process.execPath, [tsc, '-p', dir, '--pretty', 'false'], { cwd: dir, timeout: 120_000 });
    return { code: 0, output: stdout };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, output: `${e.stdout ?? ''}${e.stderr ?? ''}` || String(error) };
  }
}

/** tsc's errors, each with the line of check.ts it points at (which names the table or function). */
function explain(output: string, source: string): string {
  const lines = source.split('\n');
  return output
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => {
      const at = /check\.ts\((\d+),\d+\)/.exec(line);
      return at ? `${line}\n    at: ${lines[Number(at[1]) - 1]?.trim()}` : line;
    })
    .join('\n');
}

describe.skipIf(target().kind !== 'server')(`Database against Supabase's generator (server only: ${needsServerUrl})`, () => {
  let database: TestDatabase;
  let generated: string;
  let cat: Awaited<ReturnType<typeof catalog>>;
  /** Folders to remove afterwards (a failing comparison keeps its own, for a look). */
  const folders: string[] = [];

  beforeAll(async () => {
    database = await freshDatabase();
    [generated, cat] = await Promise.all([generateTypes(database.url!), catalog(database)]);
  }, 120_000);

  afterAll(async () => {
    await database?.close();
    for (const dir of folders) rmSync(dir, { recursive: true, force: true });
  });

  /** A folder holding the generator's output as supabase.ts and the comparison as check.ts. */
  const writeCheck = (supabaseTs: string) => {
    const dir = mkdtempSync(join(tmpdir(), 'witchcraft-supabase-types-'));
    // The package's own files are ES modules; so are these.
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
    const source = checkSource(cat, join(root, 'src/supabase/database.js'), join(root, 'src/supabase/functions.js'));
    writeFileSync(join(dir, 'supabase.ts'), supabaseTs);
    writeFileSync(join(dir, 'check.ts'), source);
    return { dir, source };
  };

  test('the generator wrote a Database type for the public schema', () => {
    expect(generated).toMatch(/^export type Database = \{$/m);
    expect(cat.tables.length).toBeGreaterThan(5);
    expect(cat.views.length).toBeGreaterThan(0);
    expect(cat.functions.length).toBeGreaterThan(5);
  });

  test('every table, view, function and enum agrees with ours, but for the differences named in the check', async () => {
    const { dir, source } = writeCheck(generated);
    const { code, output } = await typeCheck(dir);
    if (code === 0) folders.push(dir);
    expect(code, `tsc found differences (files kept in ${dir}):\n${explain(output, source)}`).toBe(0);
  }, 180_000);

  test('the check fails when the two disagree', async () => {
    // The generator's output with three changes: a column of another type, an
    // argument of another type, and one function fewer.
    const broken = generated
      .replace(/(ai_usage_daily: \{\s*Row: \{[^}]*?\btotal_tokens: )number/, '$1string')
      .replace(/(release_quota: \{\s*Args: \{[^}]*?\bp_user_id: )string/, '$1number')
      .replace(/^( *)purge_audit_log: \{[^}]*\}[^}]*\}\n/m, '');
    expect(broken.match(/total_tokens: string/g)?.length, 'the first change applies').toBe(1);
    expect(broken.match(/p_user_id: number/g)?.length, 'the second change applies').toBe(1);
    expect(broken, 'the third change applies').not.toMatch(/purge_audit_log/);
    const { dir, source } = writeCheck(broken);
    folders.push(dir);
    const { code, output } = await typeCheck(dir);
    const report = explain(output, source);
    expect(code).not.toBe(0);
    expect(report).toMatch(/"total_tokens"[^\n]*\n\s+at: type ai_usage_daily_Row/);
    expect(report).toMatch(/"p_user_id"[^\n]*\n\s+at: type release_quota_Args =/);
    expect(report).toMatch(/"purge_audit_log"[^\n]*\n\s+at: type functions =/);
  }, 180_000);
});
