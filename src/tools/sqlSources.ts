// The SQL sources (src/sql/<domain>/*.sql) are the one current definition of
// everything Drizzle cannot declare: functions, triggers, grants, default
// privileges, storage settings and reference data. This module reads them,
// checks that each is written so that applying it gives the same result from
// any starting point, and works out what a new migration must hold for the
// database to match them. `npm run db:generate` (scripts/generate.ts) writes
// that migration through `drizzle-kit generate --custom`; the catalog test
// (tests/sqlSources.test.ts) checks a migrated database against the sources.
//
// A source file is one unit: when anything in it changes, the whole file goes
// into the next migration, in full. What the last migration was generated from
// is remembered in drizzle/meta/_sql_sources.json (drizzle-kit ignores files
// in meta/ whose names start with "_").
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadModule, parseSync, scanSync } from 'libpg-query';
import { sqlConstants } from '../schema/limits.js';

export const repoRoot = resolve(fileURLToPath(import.meta.url), '..', '..', '..');
export const sqlRoot = join(repoRoot, 'src', 'sql');
export const stateFile = join(repoRoot, 'drizzle', 'meta', '_sql_sources.json');

/** The domains, in the order their units are applied (the same domains as src/schema). */
export const domains = ['shared', 'profiles', 'quotas', 'organisations', 'notifications', 'aiUsage', 'agentSessions'] as const;

/** An object a unit creates that must be dropped when no unit declares it any more. */
export interface SqlObject {
  kind: 'function' | 'trigger';
  /** `private.audit(uuid, text, ...)` or `name on public.table`. */
  identity: string;
  /** The statement that removes it. */
  drop: string;
  /** Functions: what `create or replace` cannot change (argument names, result, defaults). */
  shape?: string;
}

export interface SqlStatement {
  /** The statement as written, with the comments that lead it. */
  text: string;
  /** The parser's name for it: CreateFunctionStmt, GrantStmt, ... */
  kind: string;
}

export interface SqlUnit {
  /** Path under src/sql, e.g. `aiUsage/record_usage.sql`. */
  path: string;
  statements: SqlStatement[];
  /** Tables, views and sequences whose privileges or storage options it sets (`public.profiles`). */
  relations: string[];
  /** Hash of the statements without comments outside function bodies. */
  hash: string;
  objects: SqlObject[];
  /** Apply order: schemas, default privileges, functions and triggers, grants, storage, data. */
  rank: number;
}

export interface SqlSourcesState {
  /** The last migration of the journal when the sources were last generated. */
  lastMigration?: string;
  units: Record<string, { hash: string; objects: SqlObject[] }>;
}

export class SqlSourceError extends Error {
  override readonly name = 'SqlSourceError';
}

let parserReady: Promise<void> | undefined;
/** The PostgreSQL parser (libpg-query, WebAssembly) loads once. */
export function loadParser(): Promise<void> {
  parserReady ??= loadModule();
  return parserReady;
}

/**
 * Fills `{{name.path}}` placeholders from src/schema/limits.ts: numbers as
 * they are, strings as quoted SQL literals. A limit is then defined once for
 * the table CHECKs, the zod schemas and the SQL functions alike.
 */
export function renderPlaceholders(text: string, path: string, constants: Record<string, unknown> = sqlConstants): string {
  return text.replace(/\{\{\s*([A-Za-z0-9_.]+)\s*\}\}/g, (_, name: string) => {
    let value: unknown = constants;
    for (const part of name.split('.')) value = (value as Record<string, unknown> | undefined)?.[part];
    if (typeof value === 'number' || typeof value === 'bigint') return String(value);
    if (typeof value === 'string') return `'${value.replaceAll("'", "''")}'`;
    throw new SqlSourceError(`${path}: {{${name}}} is not a number or string in src/schema/limits.ts`);
  });
}

type Node = Record<string, any>;

const relationOf = (range: Node): string => `${range.schemaname ?? 'public'}.${range.relname}`;

/** Relations a statement grants on or sets storage options of. */
function relationsOf(kind: string, stmt: Node): string[] {
  if (kind === 'GrantStmt' && stmt.targtype === 'ACL_TARGET_OBJECT' && ['OBJECT_TABLE', 'OBJECT_SEQUENCE'].includes(stmt.objtype)) {
    return (stmt.objects ?? []).map((o: Node) => relationOf(o.RangeVar));
  }
  if (kind === 'AlterTableStmt') return [relationOf(stmt.relation)];
  return [];
}

/**
 * Relations a migration creates, or drops and creates again (drizzle-kit
 * recreates a view whose definition changed): they come back with only the
 * default privileges, so the sources that grant on them must be applied again.
 */
export async function relationsCreatedBy(migration: string): Promise<Set<string>> {
  await loadParser();
  const created = new Set<string>();
  for (const part of migration.split('--> statement-breakpoint')) {
    if (!part.trim()) continue;
    for (const { stmt } of (parseSync(part) as { stmts: { stmt: Node }[] }).stmts) {
      if (stmt.CreateStmt) created.add(relationOf(stmt.CreateStmt.relation));
      if (stmt.ViewStmt) created.add(relationOf(stmt.ViewStmt.view));
      if (stmt.CreateTableAsStmt) created.add(relationOf(stmt.CreateTableAsStmt.into.rel));
      if (stmt.CreateSeqStmt) created.add(relationOf(stmt.CreateSeqStmt.sequence));
    }
  }
  return created;
}

const names = (list: Node[] | undefined): string[] => (list ?? []).map((n) => n.String?.sval as string);

/** A type as SQL text that names the same type: `pg_catalog.int8`, `public.agent_mode`, `text[]`. */
function typeText(type: Node): string {
  const base = names(type.names)
    .map((n) => (/^[a-z_][a-z0-9_]*$/.test(n) ? n : `"${n.replaceAll('"', '""')}"`))
    .join('.');
  return base + '[]'.repeat((type.arrayBounds ?? []).length);
}

const inputModes = new Set(['FUNC_PARAM_IN', 'FUNC_PARAM_INOUT', 'FUNC_PARAM_VARIADIC', 'FUNC_PARAM_DEFAULT']);

function functionObject(stmt: Node, path: string): SqlObject {
  if (!stmt.replace) throw new SqlSourceError(`${path}: write "create or replace function" so the unit can be applied again`);
  const name = names(stmt.funcname);
  if (name.length !== 2) throw new SqlSourceError(`${path}: qualify the function name with its schema (${name.join('.')})`);
  const params = (stmt.parameters ?? []).map((p: Node) => p.FunctionParameter);
  const inputs = params.filter((p: Node) => inputModes.has(p.mode));
  const identity = `${name.join('.')}(${inputs.map((p: Node) => typeText(p.argType)).join(', ')})`;
  const options = new Map<string, Node>((stmt.options ?? []).map((o: Node) => [o.DefElem.defname, o.DefElem]));
  if (!options.has('security')) {
    throw new SqlSourceError(`${path}: ${identity} must say "security definer" or "security invoker"`);
  }
  if (!(stmt.options ?? []).some((o: Node) => o.DefElem.defname === 'set' && o.DefElem.arg?.VariableSetStmt?.name === 'search_path')) {
    throw new SqlSourceError(`${path}: ${identity} must set its search_path`);
  }
  // What CREATE OR REPLACE may not change: argument names and modes, the
  // result (columns included), and defaults it would remove.
  const shape = JSON.stringify({
    params: params.map((p: Node) => [p.name ?? null, p.mode, typeText(p.argType)]),
    returns: stmt.returnType ? [typeText(stmt.returnType), Boolean(stmt.returnType.setof)] : null,
    defaults: inputs.filter((p: Node) => p.defexpr).length,
  });
  return { kind: 'function', identity, drop: `drop function if exists ${identity}`, shape };
}

function triggerObject(stmt: Node, path: string): SqlObject {
  if (!stmt.replace) throw new SqlSourceError(`${path}: write "create or replace trigger" so the unit can be applied again`);
  const table = [stmt.relation.schemaname, stmt.relation.relname];
  if (!table[0]) throw new SqlSourceError(`${path}: qualify the table of trigger ${stmt.trigname} with its schema`);
  const on = table.join('.');
  return { kind: 'trigger', identity: `${stmt.trigname} on ${on}`, drop: `drop trigger if exists ${stmt.trigname} on ${on}` };
}

// Statements a source may hold. Anything else (DROP, ALTER FUNCTION, CREATE
// TABLE, ...) belongs in Drizzle's schema or is written by the generator.
const ranks: Record<string, number> = {
  CreateSchemaStmt: 0,
  AlterDefaultPrivilegesStmt: 1,
  CreateFunctionStmt: 2,
  CreateTrigStmt: 2,
  CommentStmt: 2,
  ViewStmt: 2,
  GrantStmt: 3,
  AlterTableStmt: 4,
  InsertStmt: 5,
  UpdateStmt: 5,
  // Only for what has no statement of its own that can be applied again
  // (a table joining a publication when it exists): it must check first.
  DoStmt: 5,
};

function checkStatement(kind: string, stmt: Node, path: string): void {
  if (!(kind in ranks)) {
    throw new SqlSourceError(
      `${path}: ${kind} has no place in an SQL source (tables, columns and policies are declared in src/schema and src/policies; drops are generated)`,
    );
  }
  if (kind === 'CreateSchemaStmt' && !stmt.if_not_exists) throw new SqlSourceError(`${path}: write "create schema if not exists"`);
  if (kind === 'ViewStmt' && !stmt.replace) throw new SqlSourceError(`${path}: write "create or replace view"`);
  if (kind === 'InsertStmt' && !stmt.onConflictClause) {
    throw new SqlSourceError(`${path}: reference data must say what happens on conflict, so the unit can be applied again`);
  }
  if (kind === 'UpdateStmt' && !stmt.whereClause) {
    throw new SqlSourceError(`${path}: a data fix says which rows it fixes (update ... where), so applying it again changes nothing`);
  }
  if (kind === 'AlterTableStmt') {
    for (const { AlterTableCmd: cmd } of stmt.cmds ?? []) {
      if (cmd?.subtype !== 'AT_SetRelOptions') {
        throw new SqlSourceError(`${path}: only "alter table ... set (storage options)" belongs in an SQL source`);
      }
    }
  }
}

/** Reads one source file into its statements and objects. */
export async function readUnit(path: string, rawText: string): Promise<SqlUnit> {
  await loadParser();
  const text = renderPlaceholders(rawText, path);
  const bytes = Buffer.from(text, 'utf8');
  let parsed: { stmts: { stmt: Node; stmt_location?: number; stmt_len?: number }[] };
  try {
    parsed = parseSync(text) as typeof parsed;
  } catch (error) {
    throw new SqlSourceError(`${path}: ${(error as Error).message}`);
  }
  // The hash is taken over the statement's tokens: comments (tokens of their
  // own outside function bodies) and layout between tokens do not count, so
  // rewording a comment asks for no migration; a function body is one string
  // token and counts to the last space, as Postgres keeps it.
  const tokens = scanSync(text).tokens.filter((t) => t.tokenName !== 'SQL_COMMENT' && t.tokenName !== 'C_COMMENT');
  const statements: SqlStatement[] = [];
  const objects: SqlObject[] = [];
  const relations = new Set<string>();
  const hash = createHash('sha256');
  let rank = 9;
  let previousEnd = 0;
  for (const entry of parsed.stmts) {
    const [kind] = Object.keys(entry.stmt) as [string];
    const stmt = entry.stmt[kind] as Node;
    checkStatement(kind, stmt, path);
    rank = Math.min(rank, ranks[kind]!);
    if (kind === 'CreateFunctionStmt') objects.push(functionObject(stmt, path));
    if (kind === 'CreateTrigStmt') objects.push(triggerObject(stmt, path));
    for (const relation of relationsOf(kind, stmt)) relations.add(relation);
    const start = entry.stmt_location ?? 0;
    const end = entry.stmt_len ? start + entry.stmt_len : bytes.length;
    // Offsets are in bytes.
    const own = tokens.filter((t) => t.start >= start && t.end <= end);
    hash.update(own.map((t) => bytes.subarray(t.start, t.end).toString('utf8')).join(' ')).update('\0');
    statements.push({ kind, text: bytes.subarray(previousEnd, end).toString('utf8').replace(/^;/, '').trim() });
    previousEnd = end;
  }
  if (statements.length === 0) throw new SqlSourceError(`${path}: holds no statement`);
  return { path, statements, relations: [...relations].sort(), hash: hash.digest('hex'), objects, rank };
}

/** Every source, in the order they are applied. */
export async function loadUnits(root = sqlRoot): Promise<SqlUnit[]> {
  const units: SqlUnit[] = [];
  const present = readdirSync(root, { withFileTypes: true });
  for (const entry of present) {
    if (entry.isDirectory() && !(domains as readonly string[]).includes(entry.name)) {
      throw new SqlSourceError(`src/sql/${entry.name}: not a domain (${domains.join(', ')})`);
    }
    if (entry.isFile()) throw new SqlSourceError(`src/sql/${entry.name}: sources live in a domain folder`);
  }
  for (const domain of domains) {
    const dir = join(root, domain);
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir).sort()) {
      if (!file.endsWith('.sql')) throw new SqlSourceError(`src/sql/${domain}/${file}: only .sql files belong here`);
      const path = relative(root, join(dir, file)).split('\\').join('/');
      units.push(await readUnit(path, readFileSync(join(dir, file), 'utf8')));
    }
  }
  const order = new Map(domains.map((d, i) => [d, i]));
  units.sort(
    (a, b) =>
      a.rank - b.rank ||
      order.get(a.path.split('/')[0] as (typeof domains)[number])! - order.get(b.path.split('/')[0] as (typeof domains)[number])! ||
      a.path.localeCompare(b.path),
  );
  const seen = new Map<string, string>();
  for (const unit of units) {
    for (const object of unit.objects) {
      const other = seen.get(object.identity);
      if (other) throw new SqlSourceError(`${object.identity} is defined in both ${other} and ${unit.path}: one current definition each`);
      seen.set(object.identity, unit.path);
    }
  }
  return units;
}

export function readState(file = stateFile): SqlSourcesState {
  if (!existsSync(file)) return { units: {} };
  return JSON.parse(readFileSync(file, 'utf8')) as SqlSourcesState;
}

export function stateOf(units: SqlUnit[], lastMigration: string): SqlSourcesState {
  return { lastMigration, units: Object.fromEntries(units.map((u) => [u.path, { hash: u.hash, objects: u.objects }])) };
}

export interface SqlPlan {
  /** Objects no source declares any more, dropped first (triggers before functions). */
  drops: SqlObject[];
  /** Functions whose result or argument names changed: dropped, then created anew. */
  recreated: SqlObject[];
  /** Units that are new or changed, in apply order. */
  units: SqlUnit[];
}

/**
 * What a migration must do for a database generated from `state` to match
 * `units`, after migrations that (re)created the relations in `recreated`.
 */
export function planMigration(units: SqlUnit[], state: SqlSourcesState, recreated: ReadonlySet<string> = new Set()): SqlPlan {
  const declared = new Map(units.flatMap((u) => u.objects.map((o) => [o.identity, o] as const)));
  const previous = new Map(Object.values(state.units).flatMap((u) => u.objects.map((o) => [o.identity, o] as const)));
  const drops = [...previous.values()]
    .filter((o) => !declared.has(o.identity))
    .sort((a, b) => (a.kind === b.kind ? a.identity.localeCompare(b.identity) : a.kind === 'trigger' ? -1 : 1));
  const recreatedFunctions = [...declared.values()].filter((o) => {
    const before = previous.get(o.identity);
    return o.kind === 'function' && before?.shape !== undefined && before.shape !== o.shape;
  });
  const changed = (u: SqlUnit) => state.units[u.path]?.hash !== u.hash || u.relations.some((r) => recreated.has(r));
  return { drops, recreated: recreatedFunctions, units: units.filter(changed) };
}

export const isEmptyPlan = (plan: SqlPlan): boolean => plan.drops.length + plan.recreated.length + plan.units.length === 0;

const breakpoint = '\n--> statement-breakpoint\n';

/** The statements of `units` in apply order, each one statement (PGlite runs them one at a time). */
export function statementsOf(units: SqlUnit[]): string[] {
  return units.flatMap((u) => u.statements.map((s) => s.text));
}

/** The text of the migration that carries out `plan`. */
export function migrationText(plan: SqlPlan): string {
  const header = [
    '-- Generated by `npm run db:generate` from the SQL sources in src/sql. Do not edit:',
    '-- change the source and generate again. Each changed source is here in full.',
    ...plan.units.map((u) => `--   src/sql/${u.path}`),
  ].join('\n');
  const parts: string[] = [];
  for (const o of plan.drops) parts.push(`-- No source declares ${o.kind} ${o.identity} any more.\n${o.drop};`);
  for (const o of plan.recreated) parts.push(`-- ${o.identity} changes its result or arguments: created anew.\n${o.drop};`);
  for (const unit of plan.units) {
    unit.statements.forEach((s, i) => parts.push(`${i === 0 ? `-- src/sql/${unit.path}\n` : ''}${s.text};`));
  }
  return `${header}\n\n${parts.join(breakpoint)}\n`;
}
