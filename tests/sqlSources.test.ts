// The SQL sources (src/sql) are the current definition of every function,
// trigger, grant and default privilege. A database migrated from scratch must
// hold exactly what they say: the same functions (body, language, security,
// settings, volatility, comment, EXECUTE grants), the same triggers, the same
// privileges on every relation, column, sequence and schema, the same storage
// options and default privileges; nothing more, nothing less.
//
// How: a second migrated database is scrambled (every function of public and
// private dropped with what depends on it, every privilege granted to every
// API role, storage options reset, default privileges opened wide) and the
// sources are applied to it. Its catalog must then equal the first one's. That
// also shows each source sets its state whatever came before, which is what a
// generated migration relies on.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { queryRows } from '../src/db.js';
import { catalogSnapshot, scrambleForSources, type CatalogSnapshot, type QueryFn } from '../src/tools/catalog.js';
import { loadUnits, statementsOf, type SqlUnit } from '../src/tools/sqlSources.js';
import { databaseMigratedTo, freshDatabase, type TestDatabase } from './support/database.js';

let migrated: TestDatabase;
let rebuilt: TestDatabase;
let units: SqlUnit[];

const queryOf = (t: TestDatabase): QueryFn => (text) => t.query(text);

class Rollback extends Error {}

beforeAll(async () => {
  [migrated, rebuilt, units] = await Promise.all([freshDatabase(), freshDatabase(), loadUnits()]);
});
afterAll(async () => {
  await Promise.all([migrated?.close(), rebuilt?.close()]);
});

describe('the SQL sources', () => {
  test('every function is complete in its source: security, search_path, comment and its own grants', () => {
    for (const unit of units) {
      const text = unit.statements.map((s) => s.text).join('\n');
      for (const fn of unit.objects.filter((o) => o.kind === 'function')) {
        const name = fn.identity.slice(0, fn.identity.indexOf('('));
        expect(text, `${unit.path}: comment on ${name}`).toMatch(new RegExp(`comment on function ${name.replace('.', '\\.')}\\(`));
        // Absolute grants: whatever the function had before, the source decides.
        expect(text, `${unit.path}: revoke all on ${name}`).toMatch(
          new RegExp(`revoke all on function ${name.replace('.', '\\.')}\\([^)]*\\) from public, anon, authenticated, service_role`),
        );
      }
    }
  });

  test('a migrated database holds exactly what the sources say', async () => {
    await scrambleForSources(queryOf(rebuilt));
    for (const statement of statementsOf(units)) await rebuilt.query(statement);
    const [expected, actual] = await Promise.all([catalogSnapshot(queryOf(rebuilt)), catalogSnapshot(queryOf(migrated))]);
    expect(Object.keys(expected.functions).length).toBeGreaterThan(20);
    expect(actual).toEqual(expected);
  });

  test('the first generated migration (0017) changed nothing in a deployed database but comments', async () => {
    const [before, after] = await Promise.all([
      databaseMigratedTo('0016_session_figures_single_writer'),
      databaseMigratedTo('0017_sql_sources'),
    ]);
    try {
      const [old, now] = await Promise.all([catalogSnapshot((t) => before.query(t)), catalogSnapshot((t) => after.query(t))]);
      // Comments are new. And on PostgreSQL 17 or later (PGlite here, newer
      // Supabase projects) Supabase's "grant all" default had also given the
      // API roles MAINTAIN (VACUUM, REINDEX, LOCK TABLE) on every table: the
      // sources grant each role only what it needs, so 0017 took it back from
      // the tables (the monthly view and the default privileges kept it until
      // the hardening migration; tests/security/privileges.test.ts). Nothing
      // else changed.
      const unchanged = (s: CatalogSnapshot) =>
        JSON.parse(
          JSON.stringify(s, (key, value) =>
            key === 'comment' ? undefined : Array.isArray(value) ? value.filter((v) => !/:MAINTAIN$/.test(String(v))) : value,
          ),
        ) as CatalogSnapshot;
      expect(unchanged(now)).toEqual(unchanged(old));
      for (const [identity, fn] of Object.entries(now.functions)) {
        expect(fn.comment, identity).toEqual(expect.any(String));
      }
    } finally {
      await Promise.all([before.close(), after.close()]);
    }
  });

  describe('the comparison notices', () => {
    let baseline: CatalogSnapshot;
    beforeAll(async () => {
      baseline = await catalogSnapshot(queryOf(migrated));
    });

    // Each change is made inside a transaction that is rolled back.
    async function differs(change: string): Promise<boolean> {
      let snapshot: CatalogSnapshot | undefined;
      await migrated.db
        .transaction(async (tx) => {
          await tx.execute(sql.raw(change));
          snapshot = await catalogSnapshot((text) => queryRows(tx, sql.raw(text)));
          throw new Rollback();
        })
        .catch((error: unknown) => {
          if (!(error instanceof Rollback)) throw error;
        });
      expect(snapshot).toBeDefined();
      return JSON.stringify(snapshot) !== JSON.stringify(baseline);
    }

    test.each([
      ['a function no source declares', `create function private.undeclared() returns int language sql security invoker set search_path = '' as 'select 1'`],
      ['a definer function turned invoker', 'alter function public.reserve_quota(uuid, text, bigint, numeric, interval, uuid, text, text) security invoker'],
      ['a changed search_path', `alter function private.is_admin() set search_path = public`],
      ['an extra EXECUTE grant', 'grant execute on function public.record_usage(uuid, text, text, text, public.agent_mode, bigint, bigint, bigint, bigint, bigint, public.usage_status, numeric, integer, uuid, bigint, uuid, text, timestamptz, bigint, integer, integer, public.service_tier, boolean, uuid) to authenticated'],
      ['a trigger no source declares', 'create trigger undeclared after insert on public.ai_providers for each row execute function private.set_updated_at()'],
      ['a disabled trigger', 'alter table public.agent_messages disable trigger agent_messages_before_insert'],
      ['an extra column grant', 'grant update (email) on public.profiles to authenticated'],
      ['a changed storage option', 'alter table public.ai_usage_daily set (fillfactor = 70)'],
      ['a wider default privilege', 'alter default privileges in schema public grant select on tables to anon'],
      ['a changed schema privilege', 'grant usage on schema private to anon'],
    ])('%s', async (_name, change) => {
      expect(await differs(change)).toBe(true);
    });
  });
});
