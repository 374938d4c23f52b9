// The path past one machine (docs/scaling.md) is on paper, but what it
// claims about this schema is checked here, against the catalog of the real
// migrated database: where every table of `public` would go on Citus, which
// keys and foreign keys would have to change, and what the policies filter
// on. The constants below are the doc's lists; the doc names them too (the
// last test reads it). When a check fails after a schema change, classify or
// list the change in docs/scaling.md and here, in the same commit.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freshDatabase, sql, type TestDatabase } from './support/database.js';

/** Where a table goes: sharded by a uuid column, copied to every node, or kept on the coordinator. */
type Placement =
  | {
      kind: 'distributed';
      /** Whose id the distribution column holds: a user's, an organisation's, or either (a "subject"). */
      by: 'user' | 'organisation' | 'subject';
      column: string;
      /** The distribution column does not exist yet: what has to be added first. */
      missingColumn?: string;
      /** The column the table's policies compare with auth.uid(), when it is not the distribution column. */
      ownerColumn?: string;
      /** Not on main yet: classified ahead, so that its arrival needs no new entry. */
      future?: true;
    }
  | { kind: 'reference' }
  | { kind: 'local'; why: string };

const user = (column = 'user_id', extra: Partial<Extract<Placement, { kind: 'distributed' }>> = {}): Placement =>
  ({ kind: 'distributed', by: 'user', column, ...extra });
const organisation = (column = 'organisation_id'): Placement => ({ kind: 'distributed', by: 'organisation', column });

/** docs/scaling.md, "Where each table goes". */
const DISTRIBUTION: Record<string, Placement> = {
  // A user's rows, one colocation group: one user's data lives on one shard.
  profiles: user('id'),
  user_quotas: user(),
  ai_usage_events: user(),
  ai_usage_event_keys: user('user_id'),
  ai_usage_daily: user(),
  agent_sessions: user(),
  agent_messages: user(),
  quota_reservations: user(),
  quota_alert_headroom: user(),
  quota_notifications: user(),
  // Rows of a user or of an organisation, by that id.
  rate_limit_state: { kind: 'distributed', by: 'subject', column: 'subject_id' },
  quota_grants: {
    kind: 'distributed',
    by: 'subject',
    column: 'subject_id',
    missingColumn: 'subject_id uuid not null = coalesce(user_id, organisation_id), set by create_grant',
    ownerColumn: 'user_id',
  },
  // An organisation's rows, by the organisation's id.
  organisations: organisation('id'),
  organisation_members: organisation(),
  organisation_invitations: organisation(),
  organisation_usage_daily: organisation(),
  organisation_member_usage_daily: organisation(),
  // Small, read on every request, written by service_role now and then: a copy on every node.
  quota_tiers: { kind: 'reference' },
  tier_model_limits: { kind: 'reference' },
  ai_providers: { kind: 'reference' },
  model_prices: { kind: 'reference' },
  // Cold, append-only, no foreign keys, rows with no subject at all.
  audit_log: { kind: 'local', why: 'cold append-only log with entries that belong to nobody (subject_id null)' },
};

/** docs/scaling.md, "Keys that change": primary keys and unique indexes of distributed tables without the distribution column. */
const KEYS_THAT_CHANGE = [
  'agent_messages_pkey',
  'agent_messages_session_seq_key',
  'agent_sessions_pkey',
  'ai_usage_events_id_occurred_at_pk',
  'organisation_invitations_pkey',
  'organisation_invitations_token_key',
  'quota_grants_pkey',
  'quota_notifications_pkey',
  'quota_reservations_pkey',
];

/**
 * docs/scaling.md, "Foreign keys that change": those Citus would refuse as
 * they are. A foreign key between distributed tables must pair the two
 * distribution columns (same position on both sides) and then may not SET
 * NULL / SET DEFAULT on delete; one from a distributed table may point at a
 * reference table; nothing may point from a reference or local table at a
 * distributed one, or from a distributed table at a table outside the plan.
 */
const FOREIGN_KEYS_THAT_CHANGE = [
  'agent_messages (session_id) -> agent_sessions (id)',
  'organisation_invitations (accepted_by) -> profiles (id)',
  'organisation_invitations (invited_by) -> profiles (id)',
  'organisation_member_usage_daily (user_id) -> profiles (id)',
  'organisation_members (invited_by) -> profiles (id)',
  'organisation_members (user_id) -> profiles (id)',
  'organisations (created_by) -> profiles (id)',
  'profiles (id) -> auth.users (id)',
  'quota_grants (organisation_id) -> organisations (id)',
  'quota_grants (user_id) -> profiles (id)',
  'quota_reservations (organisation_id) -> organisations (id)',
];

/** docs/scaling.md, "Row-level security on shards": the helpers policies call, which every worker must have. */
const POLICY_HELPERS = ['private.is_admin', 'private.managed_organisations', 'private.member_organisations'];

// ---------------------------------------------------------------------------
// Catalog reads. Partitions are left out: a partitioned table is classified
// once, its partitions go where it goes (Citus distributes them with it).

interface TableRow { table: string }
interface ColumnRow { table: string; column: string; type: string; not_null: boolean; identity: string }
interface KeyRow { table: string; name: string; columns: string }
interface ForeignKeyRow {
  table: string; columns: string; ref_table: string; ref_columns: string; on_delete: string; on_update: string;
}
interface PolicyRow { table: string; name: string; expression: string }

const tablesQuery = sql`
  select c.relname as table
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition
  order by 1`;

const columnsQuery = sql`
  select c.relname as table, a.attname as column, format_type(a.atttypid, a.atttypmod) as type,
         a.attnotnull as not_null, a.attidentity::text as identity
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  join pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
  where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition
  order by 1, a.attnum`;

// Every unique index, whether it backs a constraint or not: Citus asks the
// same of both. An expression column counts as no column.
const uniqueKeysQuery = sql`
  select c.relname as table, ic.relname as name,
         coalesce((select string_agg(a.attname, ',' order by k.i)
                   from unnest(i.indkey::int2[]) with ordinality k(attnum, i)
                   join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.attnum), '') as columns
  from pg_index i
  join pg_class c on c.oid = i.indrelid join pg_namespace n on n.oid = c.relnamespace
  join pg_class ic on ic.oid = i.indexrelid
  where n.nspname = 'public' and i.indisunique and not c.relispartition
  order by 1, 2`;

const foreignKeysQuery = sql`
  select c.relname as table,
         (select string_agg(a.attname, ', ' order by k.i) from unnest(f.conkey) with ordinality k(attnum, i)
          join pg_attribute a on a.attrelid = f.conrelid and a.attnum = k.attnum) as columns,
         case when rn.nspname = 'public' then r.relname else rn.nspname || '.' || r.relname end as ref_table,
         (select string_agg(a.attname, ', ' order by k.i) from unnest(f.confkey) with ordinality k(attnum, i)
          join pg_attribute a on a.attrelid = f.confrelid and a.attnum = k.attnum) as ref_columns,
         f.confdeltype::text as on_delete, f.confupdtype::text as on_update
  from pg_constraint f
  join pg_class c on c.oid = f.conrelid join pg_namespace n on n.oid = c.relnamespace
  join pg_class r on r.oid = f.confrelid join pg_namespace rn on rn.oid = r.relnamespace
  where f.contype = 'f' and n.nspname = 'public' and not c.relispartition and f.conparentid = 0
  order by 1, 2`;

const policiesQuery = sql`
  select c.relname as table, p.polname as name,
         concat_ws(' WITH CHECK ', pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid)) as expression
  from pg_policy p join pg_class c on c.oid = p.polrelid join pg_namespace n on n.oid = c.relnamespace
  where n.nspname = 'public'
  order by 1, 2`;

// ---------------------------------------------------------------------------
// The checks, as functions of what the catalog says, so that the last tests
// can show each of them failing on a table built to break it.

const placementOf = (table: string): Placement | undefined => DISTRIBUTION[table];
const distributed = (table: string) => {
  const p = placementOf(table);
  return p?.kind === 'distributed' ? p : undefined;
};

function unclassified(tables: TableRow[]): string[] {
  return tables.filter((t) => !placementOf(t.table)).map((t) => t.table);
}

function distributionColumnProblems(columns: ColumnRow[], tables: TableRow[]): string[] {
  const problems: string[] = [];
  for (const { table } of tables) {
    const p = distributed(table);
    if (!p) continue;
    const column = columns.find((c) => c.table === table && c.column === p.column);
    if (p.missingColumn) {
      if (column) problems.push(`${table}.${p.column} exists now: drop missingColumn from its entry and update docs/scaling.md`);
      continue;
    }
    if (!column) problems.push(`${table} has no column ${p.column}`);
    else if (column.type !== 'uuid' || !column.not_null) problems.push(`${table}.${p.column} is ${column.type}${column.not_null ? '' : ' (nullable)'}, not uuid not null`);
  }
  return problems;
}

function referenceTableProblems(columns: ColumnRow[], foreignKeys: ForeignKeyRow[]): string[] {
  const distributionColumns = new Set(Object.values(DISTRIBUTION).flatMap((p) => (p.kind === 'distributed' ? [p.column] : [])));
  distributionColumns.delete('id');
  const problems: string[] = [];
  for (const c of columns) {
    if (placementOf(c.table)?.kind === 'reference' && distributionColumns.has(c.column)) {
      problems.push(`reference table ${c.table} has a ${c.column} column: its rows belong to someone, it is not reference data`);
    }
  }
  for (const f of foreignKeys) {
    if (placementOf(f.table)?.kind === 'reference' && placementOf(f.ref_table)?.kind !== 'reference') {
      problems.push(`reference table ${f.table} (${f.columns}) points at ${f.ref_table}, which is not a reference table`);
    }
  }
  return problems;
}

function keysLackingDistributionColumn(keys: KeyRow[]): string[] {
  return keys
    .filter((k) => {
      const p = distributed(k.table);
      return p !== undefined && !k.columns.split(',').includes(p.column);
    })
    .map((k) => k.name)
    .sort();
}

const describeForeignKey = (f: ForeignKeyRow) => `${f.table} (${f.columns}) -> ${f.ref_table} (${f.ref_columns})`;

function foreignKeyKept(f: ForeignKeyRow): boolean {
  const from = placementOf(f.table);
  const to = placementOf(f.ref_table);
  if (!from || !to) return false; // a table outside the plan (auth.users)
  if (from.kind !== 'distributed') return to.kind === 'reference' || (from.kind === 'local' && to.kind === 'local');
  if (to.kind === 'reference') return true;
  if (to.kind !== 'distributed') return false;
  // Both distributed: the two distribution columns paired, at the same position.
  const columns = f.columns.split(', ');
  const refColumns = f.ref_columns.split(', ');
  const paired = columns.some((c, i) => c === from.column && refColumns[i] === to.column);
  // Then no SET NULL / SET DEFAULT on delete, and no action but NO ACTION / RESTRICT on update.
  return paired && !['n', 'd'].includes(f.on_delete) && ['a', 'r'].includes(f.on_update);
}

function foreignKeysThatChange(foreignKeys: ForeignKeyRow[]): string[] {
  return foreignKeys.filter((f) => !foreignKeyKept(f)).map(describeForeignKey).sort();
}

function policyProblems(policies: PolicyRow[]): string[] {
  const problems: string[] = [];
  for (const p of policies) {
    const placement = distributed(p.table);
    if (!placement) continue;
    const owner = placement.ownerColumn ?? placement.column;
    const routes =
      placement.by === 'organisation'
        ? new RegExp(`\\b${placement.column} IN \\( SELECT private\\.(member|managed)_organisations\\(\\)`)
        : new RegExp(`\\b${owner} = \\( SELECT auth\\.uid\\(\\)`);
    if (!routes.test(p.expression)) problems.push(`${p.table}: policy "${p.name}" does not filter on ${placement.by === 'organisation' ? placement.column : owner}: ${p.expression}`);
  }
  return problems;
}

const policyHelpers = (policies: PolicyRow[]) =>
  [...new Set(policies.flatMap((p) => [...p.expression.matchAll(/\b(private\.[a-z_]+)\(/g)].map((m) => m[1]!)))].sort();

// ---------------------------------------------------------------------------

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const doc = readFileSync(join(root, 'docs/scaling.md'), 'utf8');
const fix = 'classify or list it in docs/scaling.md and in tests/distribution.test.ts';

let t: TestDatabase;
let tables: TableRow[];
let columns: ColumnRow[];
let keys: KeyRow[];
let foreignKeys: ForeignKeyRow[];
let policies: PolicyRow[];

async function readCatalog() {
  [tables, columns, keys, foreignKeys, policies] = await Promise.all([
    t.rows<TableRow>(tablesQuery),
    t.rows<ColumnRow>(columnsQuery),
    t.rows<KeyRow>(uniqueKeysQuery),
    t.rows<ForeignKeyRow>(foreignKeysQuery),
    t.rows<PolicyRow>(policiesQuery),
  ]);
}

beforeAll(async () => {
  t = await freshDatabase();
  await readCatalog();
});
afterAll(() => t?.close());

describe('every table has a place on the way past one machine', () => {
  it('every table in public is classified: distributed (by user, organisation or subject), reference or local', () => {
    expect(tables.length).toBeGreaterThanOrEqual(21);
    expect(unclassified(tables), `unclassified tables: ${fix}`).toEqual([]);
  });

  it('the classification names no table that is gone (only those marked future may be missing)', () => {
    const present = new Set(tables.map((r) => r.table));
    const stale = Object.entries(DISTRIBUTION)
      .filter(([table, p]) => !present.has(table) && !(p.kind === 'distributed' && p.future))
      .map(([table]) => table);
    expect(stale, `no such table: remove it from docs/scaling.md and tests/distribution.test.ts`).toEqual([]);
  });

  it('every distributed table has its distribution column, uuid and NOT NULL (or says what must be added first)', () => {
    expect(distributionColumnProblems(columns, tables)).toEqual([]);
  });

  it('reference tables hold nobody\'s rows and point only at other reference tables', () => {
    expect(referenceTableProblems(columns, foreignKeys)).toEqual([]);
  });

  it('identity columns of distributed and reference tables are bigint (the only identity type Citus distributes)', () => {
    const wrong = columns
      .filter((c) => c.identity !== '' && placementOf(c.table)?.kind !== 'local' && c.type !== 'bigint')
      .map((c) => `${c.table}.${c.column} (${c.type})`);
    expect(wrong).toEqual([]);
  });
});

describe('what would have to change, as the doc lists it', () => {
  it('the primary keys and unique indexes without the distribution column are the doc\'s "keys that change"', () => {
    expect(keysLackingDistributionColumn(keys), `a key changed: ${fix}`).toEqual(KEYS_THAT_CHANGE);
  });

  it('the foreign keys Citus would refuse are the doc\'s "foreign keys that change"', () => {
    expect(foreignKeysThatChange(foreignKeys), `a foreign key changed: ${fix}`).toEqual(FOREIGN_KEYS_THAT_CHANGE);
  });

  it('every policy on a distributed table filters on the owner: auth.uid() for users, the membership helpers for organisations', () => {
    expect(policyProblems(policies)).toEqual([]);
  });

  it('the helpers policies call are the doc\'s list (each must exist on every worker)', () => {
    expect(policyHelpers(policies), `a policy helper changed: ${fix}`).toEqual(POLICY_HELPERS);
  });

  it('docs/scaling.md names every table with its place, every key, foreign key and helper of the lists', () => {
    const missing: string[] = [];
    for (const [table, p] of Object.entries(DISTRIBUTION)) {
      const row = p.kind === 'distributed' ? `| \`${table}\` | \`${p.column}\` |` : `| \`${table}\` | ${p.kind} |`;
      if (!doc.includes(row)) missing.push(row);
    }
    for (const name of KEYS_THAT_CHANGE) if (!doc.includes(`\`${name}\``)) missing.push(name);
    for (const fk of FOREIGN_KEYS_THAT_CHANGE) {
      const shown = fk.replace(' -> ', '` → `');
      if (!doc.includes(`\`${shown}\``)) missing.push(fk);
    }
    for (const helper of POLICY_HELPERS) if (!doc.includes(`\`${helper}()\``)) missing.push(helper);
    expect(missing).toEqual([]);
  });
});

// The checks above would pass on a catalog that had nothing to report; these
// show each of them failing on a table made to break it, then put the
// database back as it was.
describe('the checks catch what they are for', () => {
  it('an unclassified table, a nullable distribution column, a key and a foreign key without it, a policy on another column', async () => {
    await t.query(`create table public.scaling_probe (id bigint primary key, owner uuid)`);
    await t.query(`alter table public.scaling_probe add constraint scaling_probe_session_fk foreign key (owner) references public.agent_sessions (id)`);
    await t.query(`create policy "probe" on public.scaling_probe for select to authenticated using (owner = (select auth.uid()))`);
    try {
      await readCatalog();
      expect(unclassified(tables)).toEqual(['scaling_probe']);

      DISTRIBUTION.scaling_probe = user('owner');
      expect(distributionColumnProblems(columns, tables)).toEqual(['scaling_probe.owner is uuid (nullable), not uuid not null']);
      expect(keysLackingDistributionColumn(keys)).toContain('scaling_probe_pkey');
      expect(foreignKeysThatChange(foreignKeys)).toContain('scaling_probe (owner) -> agent_sessions (id)');
      expect(policyProblems(policies)).toEqual([]);

      DISTRIBUTION.scaling_probe = user('user_id', { ownerColumn: 'user_id' });
      expect(distributionColumnProblems(columns, tables)).toEqual(['scaling_probe has no column user_id']);
      expect(policyProblems(policies)).toHaveLength(1);

      DISTRIBUTION.scaling_probe = { kind: 'reference' };
      expect(referenceTableProblems(columns, foreignKeys)).toEqual([
        'reference table scaling_probe (owner) points at agent_sessions, which is not a reference table',
      ]);
    } finally {
      delete DISTRIBUTION.scaling_probe;
      await t.query(`drop table public.scaling_probe`);
      await readCatalog();
    }
    expect(unclassified(tables)).toEqual([]);
  });

  it('a foreign key between co-located tables that sets NULL on delete is one that changes', () => {
    const f: ForeignKeyRow = {
      table: 'ai_usage_events', columns: 'user_id, session_id', ref_table: 'agent_sessions', ref_columns: 'user_id, id',
      on_delete: 'n', on_update: 'a',
    };
    expect(foreignKeyKept(f)).toBe(false);
    expect(foreignKeyKept({ ...f, on_delete: 'c' })).toBe(true);
    expect(foreignKeyKept({ ...f, ref_columns: 'id, user_id' })).toBe(false);
  });
});
