// The package as a service gets it: the BUILT JavaScript and declarations in
// dist/, reached by the package's name through the `exports` of package.json,
// never the TypeScript sources.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { applySupabaseEmulation } from '../src/local/index.js';
import { target } from './support/database.js';
import { developmentOnly, forbiddenImports, importGraph } from './support/importGraph.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  name: string;
  exports: Record<string, string | { types: string; import: string }>;
  files: string[];
  allowScripts?: Record<string, boolean>;
};

function newestIn(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestIn(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Builds dist/ unless it is newer than every source file. */
function ensureBuilt(): void {
  const marker = join(root, 'dist', 'index.js');
  const fresh =
    existsSync(marker) &&
    statSync(marker).mtimeMs >= Math.max(newestIn(join(root, 'src')), statSync(join(root, 'tsconfig.build.json')).mtimeMs);
  if (!fresh) execFileSync('npm', ['run', 'build'], { cwd: root, stdio: 'pipe' });
}

/** A throwaway consumer project whose node_modules holds this package by name. */
let consumer: string;

function runNode(code: string): string {
  return execFileSync(process.execPath, ['--input-type=module', '-e', code], { cwd: consumer, encoding: 'utf8' });
}

const dist = join(root, 'dist');
const distUrl = `${pathToFileURL(dist)}/`;

/**
 * Run-time check of what an import loads, as a script for a child process.
 * Module resolution hooks (module.register, Node 20.6 and later) see every
 * module an ES import asks for, ours and our dependencies' alike, import()
 * included, before it is loaded. These hooks refuse the development-only
 * packages wherever they are asked for and, as told, any file of dist/local/
 * (`local`) and the file system when one of our own dist/ files asks for it
 * (`ownFs`): an import that would load any of them fails instead. CommonJS
 * require() does not pass through such hooks on Node 20; PGlite and
 * testcontainers are reached through ES imports, and the static walk of
 * dist/ covers our own files whatever they use.
 */
function guardedImport(body: string, options: { local: boolean; ownFs: boolean }): string {
  const hooks = `
    let rules;
    export function initialize(data) { rules = data; }
    export async function resolve(specifier, context, next) {
      const resolved = await next(specifier, context);
      const ours = (context.parentURL ?? '').startsWith(rules.dist);
      const refused =
        rules.anywhere.some((r) => new RegExp(r).test(specifier)) ||
        (rules.local !== null && resolved.url.startsWith(rules.local)) ||
        (ours && rules.own.some((r) => new RegExp(r).test(specifier)));
      if (refused) throw new Error('development code loaded: ' + specifier + ' -> ' + resolved.url + ' (asked for by ' + context.parentURL + ')');
      return resolved;
    }`;
  const fsRule = developmentOnly.filter((r) => r.test('node:fs'));
  const data = {
    dist: distUrl,
    local: options.local ? `${distUrl}local/` : null,
    anywhere: developmentOnly.filter((r) => !r.test('node:fs')).map((r) => r.source),
    own: options.ownFs ? fsRule.map((r) => r.source) : [],
  };
  return `
    import { register } from 'node:module';
    register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hooks)}), { data: ${JSON.stringify(data)} });
    ${body}
  `;
}

beforeAll(() => {
  ensureBuilt();
  consumer = mkdtempSync(join(tmpdir(), 'witchcraft-db-consumer-'));
  mkdirSync(join(consumer, 'node_modules', '@witchcraft'), { recursive: true });
  symlinkSync(root, join(consumer, 'node_modules', '@witchcraft', 'db'), 'dir');
  writeFileSync(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }));
}, 180_000);

afterAll(() => {
  if (consumer) rmSync(consumer, { recursive: true, force: true });
});

describe('package.json', () => {
  test('every export points at built files that exist, JavaScript and declarations', () => {
    expect(Object.keys(pkg.exports)).toEqual(expect.arrayContaining(['.', './schema', './policies', './supabase', './migrate', './local']));
    expect(pkg.exports['./local']).toEqual({ types: './dist/local/index.d.ts', import: './dist/local/index.js' });
    expect(pkg.exports['./migrate']).toEqual({ types: './dist/migrate.d.ts', import: './dist/migrate.js' });
    for (const [subpath, files] of Object.entries(pkg.exports)) {
      if (typeof files === 'string') continue;
      expect(files.import, subpath).toMatch(/^\.\/dist\/.*\.js$/);
      expect(files.types, subpath).toMatch(/^\.\/dist\/.*\.d\.ts$/);
      expect(existsSync(join(root, files.import)), files.import).toBe(true);
      expect(existsSync(join(root, files.types)), files.types).toBe(true);
    }
  });

  test('the published files include the build and the migrations', () => {
    expect(pkg.files).toEqual(expect.arrayContaining(['dist', 'drizzle']));
  });

  test('every dependency with an install script is reviewed in allowScripts, and nothing else is listed', () => {
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { hasInstallScript?: boolean }>;
    };
    const withScripts = new Set(
      Object.entries(lock.packages)
        .filter(([, entry]) => entry.hasInstallScript)
        .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length)),
    );
    const reviewed = pkg.allowScripts ?? {};
    expect(withScripts.size).toBeGreaterThan(0);
    expect(Object.keys(reviewed).sort()).toEqual([...withScripts].sort());
    for (const [name, allowed] of Object.entries(reviewed)) expect(typeof allowed, name).toBe('boolean');
  });
});

describe('importing the built package by name', () => {
  /** What each export of a built entry is (typeof), read in a child process. */
  function exportKinds(subpath: string): { where: string; kinds: Record<string, string> } {
    const out = runNode(`
      const m = await import('${subpath}');
      const where = import.meta.resolve('${subpath}');
      console.log(JSON.stringify({ where, kinds: Object.fromEntries(Object.entries(m).map(([k, v]) => [k, typeof v])) }));
    `);
    return JSON.parse(out) as { where: string; kinds: Record<string, string> };
  }

  const local = ['connect', 'openPglite', 'startContainer', 'signUpLocal', 'applySupabaseEmulation'];
  const migrate = ['runMigrations', 'journal'];

  test("'@witchcraft/db' resolves to dist/ and exports the service API, and nothing local", () => {
    const { where, kinds } = exportKinds('@witchcraft/db');
    expect(fileURLToPath(where)).toBe(join(root, 'dist', 'index.js'));
    for (const name of ['connectUrl', 'queryRows', 'withClaims', 'asAnon', 'asService', 'asUser', 'pgErrorOf', 'recordUsage', 'reserveQuota', 'releaseQuota', 'getQuotaStatus', 'getMonthlyUsage', 'startSession', 'appendMessage', 'endSession', 'listSessions', 'getSession', 'listActiveSessions']) {
      expect(kinds[name], name).toBe('function');
    }
    expect(kinds.schema).toBe('object');
    expect(kinds.rpcFunctionSpecs).toBe('object');
    for (const name of [...local, 'defaultDataDir', ...migrate, 'migrationsFolder']) expect(kinds[name], name).toBeUndefined();
  });

  test("'@witchcraft/db/local' exports the embedded database, containers, the emulation and local sign-ups", () => {
    const { where, kinds } = exportKinds('@witchcraft/db/local');
    expect(fileURLToPath(where)).toBe(join(root, 'dist', 'local', 'index.js'));
    for (const name of local) expect(kinds[name], name).toBe('function');
    expect(kinds.defaultDataDir).toBe('string');
  });

  test("'@witchcraft/db/migrate' exports the migrator and the shipped migrations", () => {
    const { where, kinds } = exportKinds('@witchcraft/db/migrate');
    expect(fileURLToPath(where)).toBe(join(root, 'dist', 'migrate.js'));
    for (const name of migrate) expect(kinds[name], name).toBe('function');
    expect(kinds.migrationsFolder).toBe('string');
  });

  test("'@witchcraft/db/schema' exports the tables, views and relations", () => {
    const out = runNode(`
      const schema = await import('@witchcraft/db/schema');
      // Drizzle keeps a table's SQL name under this symbol.
      console.log(JSON.stringify({ daily: schema.aiUsageDaily[Symbol.for('drizzle:Name')], keys: Object.keys(schema) }));
    `);
    const { daily, keys } = JSON.parse(out) as { daily: string; keys: string[] };
    expect(daily).toBe('ai_usage_daily');
    expect(keys).toEqual(expect.arrayContaining(['profiles', 'users', 'aiUsageEvents', 'agentSessions', 'userQuotas', 'agentSessionsRelations']));
  });

  test("a local tool migrates an embedded database with '@witchcraft/db/local' and '@witchcraft/db/migrate'", () => {
    const out = runNode(`
      const { openPglite } = await import('@witchcraft/db/local');
      const { runMigrations, migrationsFolder, journal } = await import('@witchcraft/db/migrate');
      const connection = await openPglite();
      try {
        const applied = await runMigrations(connection);
        console.log(JSON.stringify({ folder: migrationsFolder, applied, expected: journal().map((e) => e.tag) }));
      } finally {
        await connection.close();
      }
    `);
    const { folder, applied, expected } = JSON.parse(out) as { folder: string; applied: string[]; expected: string[] };
    expect(folder).toBe(join(root, 'drizzle'));
    expect(applied.length).toBeGreaterThan(0);
    expect(applied).toEqual(expected);
  });

  test('a TypeScript consumer type-checks against the declarations alone', () => {
    writeFileSync(
      join(consumer, 'service.ts'),
      `import { connectUrl, withClaims, recordUsage, reserveQuota, asUser, pgErrorOf, type Database, type Tables } from '@witchcraft/db';
// @ts-expect-error: the embedded database is not part of the service entry
import { openPglite as notHere } from '@witchcraft/db';
import { openPglite, signUpLocal, type PgliteOptions } from '@witchcraft/db/local';
import { runMigrations, journal } from '@witchcraft/db/migrate';
import * as schema from '@witchcraft/db/schema';
import { createClient } from '@supabase/supabase-js';

const { db } = connectUrl('postgres://localhost/witchcraft');
export const pending: Promise<string[]> = runMigrations(connectUrl('postgres://localhost/witchcraft'));
export const tags: string[] = journal().map((e) => e.tag);
const options: PgliteOptions = { dataDir: '.data/pglite' };
export const embedded = openPglite(options).then(async (c) => [await runMigrations(c), await signUpLocal(c.db, { email: 'a@b.c' })] as const);
export const code: string | undefined = pgErrorOf(new Error('x')).code;
export const unused = notHere;
export const rows = db.select({ tokens: schema.aiUsageDaily.totalTokens }).from(schema.aiUsageDaily);
export const mine = withClaims(db, { role: 'authenticated', sub: 'x' }, async (tx) => tx.select().from(schema.agentSessions));
export const withMessages = db.query.agentSessions
  .findFirst({ with: { messages: { orderBy: (m, { asc }) => [asc(m.seq)] } } })
  .then((s) => s?.messages.map((m) => m.seq satisfies number));
export const held = reserveQuota(db, { userId: 'u', idempotencyKey: 'k', estimatedTokens: 100 }).then((r) => (r.granted ? r.reservationId : r.reason));
export const recorded = recordUsage(db, { userId: 'u', idempotencyKey: 'k', provider: 'openai', model: 'gpt-4.1', agentMode: 'debug' }).then((r) => r.eventId);
export const asTheUser = asUser(db, 'token', async (tx) => tx.select().from(schema.userQuotas), { jwtSecret: 's' });
const supabase = createClient<Database>('http://localhost:54321', 'anon');
export const daily = supabase.from('ai_usage_daily').select('total_tokens');
export const row: Tables<'ai_usage_daily'>['cost_usd'] = 1.5;
// @ts-expect-error: money comes over the wire as a number
export const wrong: Tables<'ai_usage_daily'>['cost_usd'] = 'x';
`,
    );
    writeFileSync(
      join(consumer, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true,
          noEmit: true, skipLibCheck: true, types: [], typeRoots: [join(root, 'node_modules', '@types')],
        },
        files: ['service.ts'],
      }),
    );
    // The consumer resolves its own dependencies (supabase-js) from the repo's node_modules.
    symlinkSync(join(root, 'node_modules', '@supabase'), join(consumer, 'node_modules', '@supabase'), 'dir');
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    let output = '';
    try {
      execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: consumer, encoding: 'utf8' });
    } catch (error) {
      output = String((error as { stdout?: string }).stdout ?? error);
    }
    expect(output).toBe('');
    // And the declarations came from dist/, not from src/.
    const trace = execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json', '--listFiles'], { cwd: consumer, encoding: 'utf8' });
    for (const file of ['index.d.ts', 'migrate.d.ts', join('local', 'index.d.ts')]) expect(trace).toContain(join(root, 'dist', file));
    expect(trace).not.toContain(join(root, 'src', 'index.ts'));
    expect(trace).not.toContain(join(root, 'src', 'local'));
  }, 120_000);
});

describe('the service entry loads no development code', () => {
  const forbidden = { specifiers: developmentOnly, folders: [join(dist, 'local')] };

  test('the import graph of the built dist/index.js reaches no PGlite, testcontainers, file system or dist/local/', () => {
    const graph = importGraph(join(dist, 'index.js'));
    // The walk covers the whole entry, not just its first file.
    for (const file of ['client.js', 'db.js', 'errors.js', 'schema/index.js', 'queries/sessions.js', 'auth/asUser.js', 'supabase/functions.js']) {
      expect(graph.files, file).toContain(join(dist, file));
    }
    expect(forbiddenImports(graph, forbidden, root)).toEqual([]);
  });

  test('the same walk does find them from dist/local/index.js (the rules match the real build)', () => {
    const found = forbiddenImports(importGraph(join(dist, 'local', 'index.js')), { specifiers: developmentOnly }, root);
    expect(found).toEqual(
      expect.arrayContaining([
        'dist/local/index.js -> dist/local/pglite.js -> @electric-sql/pglite',
        'dist/local/index.js -> dist/local/pglite.js -> drizzle-orm/pglite',
        'dist/local/index.js -> dist/local/pglite.js -> node:fs',
        'dist/local/index.js -> dist/local/container.js -> @testcontainers/postgresql',
      ]),
    );
  });

  test('dist/migrate.js loads the PGlite migrator only through import(), from dist/local/', () => {
    const anyPglite = { specifiers: developmentOnly.filter((r) => !r.test('node:fs')), folders: [join(dist, 'local')] };
    expect(forbiddenImports(importGraph(join(dist, 'migrate.js'), { dynamic: false }), anyPglite, root)).toEqual([]);
    expect(forbiddenImports(importGraph(join(dist, 'migrate.js')), anyPglite, root)).toEqual(
      expect.arrayContaining([
        'dist/migrate.js -> dist/local/pgliteMigrator.js',
        'dist/migrate.js -> dist/local/pgliteMigrator.js -> drizzle-orm/pglite/migrator',
      ]),
    );
  });

  test("at run time, importing '@witchcraft/db' loads none of it", () => {
    const out = runNode(guardedImport(`
      const m = await import('@witchcraft/db');
      console.log(typeof m.connectUrl);
    `, { local: true, ownFs: true }));
    expect(out.trim()).toBe('function');
  });

  test('the run-time guard does refuse each kind of development code (it can fail)', () => {
    const refusal = (subpath: string, rules: { local: boolean; ownFs: boolean }) =>
      runNode(guardedImport(`
        console.log(await import('${subpath}').then(() => 'loaded', (e) => e.message));
      `, rules)).trim();
    // The packages themselves, even with the folder rule off.
    expect(refusal('@witchcraft/db/local', { local: false, ownFs: false })).toMatch(
      /^development code loaded: (@electric-sql\/pglite|drizzle-orm\/pglite|@testcontainers\/postgresql) /,
    );
    // A file of dist/local/.
    expect(refusal('@witchcraft/db/local', { local: true, ownFs: false })).toMatch(/^development code loaded: @witchcraft\/db\/local -> file:.*\/dist\/local\/index\.js /);
    // The file system, asked for by one of our files (the migrator reads the journal).
    expect(refusal('@witchcraft/db/migrate', { local: false, ownFs: true })).toMatch(/^development code loaded: node:fs -> node:fs \(asked for by file:.*\/dist\/migrate\.js\)/);
  });

  // A deploy pipeline: the service entry and the migrator, a postgres.js
  // connection, a database prepared as Supabase would have it, and never PGlite.
  test.runIf(target().kind === 'server')("a deploy pipeline migrates a server with '@witchcraft/db/migrate', loading no PGlite", async () => {
    const adminUrl = target().adminUrl!;
    const name = `witchcraft_deploy_${process.pid}_${Date.now().toString(36)}`;
    const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database "${name}"`);
    try {
      const u = new URL(adminUrl);
      u.pathname = `/${name}`;
      const url = u.toString();
      const prepare = postgres(url, { max: 1, onnotice: () => {} });
      try {
        await applySupabaseEmulation((text) => prepare.unsafe(text));
      } finally {
        await prepare.end();
      }
      const out = runNode(guardedImport(`
        const { connectUrl } = await import('@witchcraft/db');
        const { runMigrations, journal } = await import('@witchcraft/db/migrate');
        const connection = connectUrl(${JSON.stringify(url)}, { max: 1 });
        try {
          const applied = await runMigrations(connection);
          const again = await runMigrations(connection);
          console.log(JSON.stringify({ applied, again, expected: journal().map((e) => e.tag) }));
        } finally {
          await connection.close();
        }
      `, { local: true, ownFs: false }));
      const { applied, again, expected } = JSON.parse(out) as { applied: string[]; again: string[]; expected: string[] };
      expect(applied).toEqual(expected);
      expect(again).toEqual([]);
    } finally {
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
      await admin.end();
    }
  }, 120_000);
});
