// Migration safety: statements that lose data or rewrite / lock a whole table
// are refused in new migrations unless the migration says, in a comment, that
// it means them:
//
//   -- migration-safety: allow drop-column the nickname column moved to profiles
//
// Statements are read with the PostgreSQL parser itself (libpg-query), so
// quoting, comments and formatting cannot hide or fake a statement.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'libpg-query';
import { journal } from '../migrate.js';

export const safetyRules = {
  'drop-table': 'drops a table and its data',
  'drop-column': 'drops a column and its data',
  'alter-column-type': 'changes a column type (rewrites the table under an exclusive lock, may lose data)',
  'add-not-null-column': 'adds a NOT NULL column without a default (fails on a table that has rows)',
  'rename-table': 'renames a table (breaks every client that still uses the old name)',
  'rename-column': 'renames a column (breaks every client that still uses the old name)',
} as const;
export type SafetyRule = keyof typeof safetyRules;

export interface SafetyFinding {
  file: string;
  line: number;
  rule: SafetyRule;
  /** Table (and column) the statement touches. */
  target: string;
  message: string;
}

/** `-- migration-safety: allow <rule> <reason>`: the rules a migration acknowledges (a reason is required). */
export function acknowledgedRules(text: string): Set<string> {
  const found = new Set<string>();
  for (const match of text.matchAll(/^[ \t]*--[ \t]*migration-safety:[ \t]*allow[ \t]+([a-z-]+)[ \t]+(\S.*)$/gim)) {
    found.add(match[1]!.toLowerCase());
  }
  return found;
}

type Node = Record<string, any>;

function relationName(relation: Node | undefined): string {
  if (!relation) return '?';
  return relation.schemaname ? `${relation.schemaname}.${relation.relname}` : relation.relname;
}

function statementRules(stmt: Node): { rule: SafetyRule; target: string }[] {
  const out: { rule: SafetyRule; target: string }[] = [];
  if (stmt.DropStmt?.removeType === 'OBJECT_TABLE') {
    for (const object of stmt.DropStmt.objects ?? []) {
      const names = (object.List?.items ?? []).map((i: Node) => i.String?.sval).join('.');
      out.push({ rule: 'drop-table', target: names });
    }
  }
  if (stmt.AlterTableStmt) {
    const table = relationName(stmt.AlterTableStmt.relation);
    for (const { AlterTableCmd: cmd } of stmt.AlterTableStmt.cmds ?? []) {
      if (!cmd) continue;
      if (cmd.subtype === 'AT_DropColumn') out.push({ rule: 'drop-column', target: `${table}.${cmd.name}` });
      if (cmd.subtype === 'AT_AlterColumnType') out.push({ rule: 'alter-column-type', target: `${table}.${cmd.name}` });
      if (cmd.subtype === 'AT_AddColumn') {
        const column = cmd.def?.ColumnDef ?? {};
        const kinds = new Set((column.constraints ?? []).map((c: Node) => c.Constraint?.contype));
        const notNull = kinds.has('CONSTR_NOTNULL') || kinds.has('CONSTR_PRIMARY');
        // A default, an identity or a generated expression fills existing rows.
        const filled = kinds.has('CONSTR_DEFAULT') || kinds.has('CONSTR_IDENTITY') || kinds.has('CONSTR_GENERATED');
        if (notNull && !filled) out.push({ rule: 'add-not-null-column', target: `${table}.${column.colname}` });
      }
    }
  }
  if (stmt.RenameStmt) {
    const r = stmt.RenameStmt;
    const table = relationName(r.relation);
    if (r.renameType === 'OBJECT_TABLE') out.push({ rule: 'rename-table', target: `${table} → ${r.newname}` });
    if (r.renameType === 'OBJECT_COLUMN') out.push({ rule: 'rename-column', target: `${table}.${r.subname} → ${r.newname}` });
  }
  return out;
}

/** The line where the statement starting at byte `location` begins, past blank lines and comments. */
function lineOf(text: string, location: number): number {
  const bytes = Buffer.from(text, 'utf8');
  const rest = bytes.subarray(location).toString('utf8');
  const skipped = rest.match(/^(?:\s+|--[^\n]*\n?)*/)?.[0] ?? '';
  const before = bytes.subarray(0, location).toString('utf8') + skipped;
  return before.split('\n').length;
}

/** Checks one migration's SQL; `file` names it in the findings. */
export async function checkMigrationSql(file: string, text: string): Promise<SafetyFinding[]> {
  const allowed = acknowledgedRules(text);
  let tree: { stmts?: { stmt: Node; stmt_location?: number }[] };
  try {
    tree = (await parse(text)) as unknown as typeof tree;
  } catch (error) {
    throw new Error(`${file}: not valid PostgreSQL: ${error instanceof Error ? error.message : String(error)}`);
  }
  const findings: SafetyFinding[] = [];
  for (const { stmt, stmt_location: location = 0 } of tree.stmts ?? []) {
    for (const { rule, target } of statementRules(stmt)) {
      if (allowed.has(rule)) continue;
      const line = lineOf(text, location);
      findings.push({
        file,
        line,
        rule,
        target,
        message: `${file}:${line}: ${safetyRules[rule]}: ${target}. If this is intended, add to the migration: -- migration-safety: allow ${rule} <why>`,
      });
    }
  }
  return findings;
}

export interface SafetyConfig {
  /** The last migration accepted as it is; only later ones are checked. */
  baseline: string;
}

/** Reads the baseline from `migration-safety.json` in the migrations folder. */
export function readSafetyConfig(folder: string): SafetyConfig {
  return JSON.parse(readFileSync(join(folder, 'migration-safety.json'), 'utf8')) as SafetyConfig;
}

/** Checks every migration after the baseline, in journal order. */
export async function checkMigrations(folder: string, config = readSafetyConfig(folder)): Promise<{ checked: string[]; findings: SafetyFinding[] }> {
  const tags = journal(folder).map((e) => e.tag);
  const at = tags.indexOf(config.baseline);
  if (at < 0) throw new Error(`migration-safety.json: baseline ${JSON.stringify(config.baseline)} is not in the journal`);
  const checked = tags.slice(at + 1);
  const findings: SafetyFinding[] = [];
  for (const tag of checked) {
    const file = `${tag}.sql`;
    findings.push(...(await checkMigrationSql(file, readFileSync(join(folder, file), 'utf8'))));
  }
  return { checked, findings };
}
