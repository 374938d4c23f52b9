// '@witchcraft/db/migrate': applies the migrations shipped in drizzle/. Apart
// from the main entry because it reads the journal from disk; a deploy
// pipeline runs it with a postgres.js connection (connectUrl), local tools
// with an embedded one from '@witchcraft/db/local'.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import type { Connection } from './client.js';
import { queryRows } from './db.js';

/** The migrations folder shipped with the package (drizzle/ at its root). */
export const migrationsFolder = join(dirname(fileURLToPath(import.meta.url)), '..', 'drizzle');

// Same place as drizzle.config.ts, so drizzle-kit migrate and this agree.
const migrationsTable = '__drizzle_migrations';
const migrationsSchema = 'drizzle';

interface JournalEntry {
  tag: string;
  when: number;
}

/** The migrations in the journal, in order. */
export function journal(folder = migrationsFolder): JournalEntry[] {
  const raw = JSON.parse(readFileSync(join(folder, 'meta', '_journal.json'), 'utf8')) as { entries: JournalEntry[] };
  return raw.entries;
}

async function appliedTimes(connection: Connection): Promise<Set<number>> {
  const exists = await queryRows<{ present: boolean }>(
    connection.db,
    sql`select to_regclass(${`${migrationsSchema}.${migrationsTable}`}) is not null as present`,
  );
  if (!exists[0]?.present) return new Set();
  const rows = await queryRows<{ created_at: string | number }>(
    connection.db,
    sql.raw(`select created_at from "${migrationsSchema}"."${migrationsTable}"`),
  );
  return new Set(rows.map((r) => Number(r.created_at)));
}

/**
 * Applies the pending migrations (all in one transaction, as drizzle-kit
 * migrate does) and returns the tags it applied, in order.
 */
export async function runMigrations(connection: Connection, folder = migrationsFolder): Promise<string[]> {
  const before = await appliedTimes(connection);
  const config = { migrationsFolder: folder, migrationsTable, migrationsSchema };
  if (connection.kind === 'pglite') {
    // Loaded only here: migrating a server never loads PGlite.
    const { migratePglite } = await import('./local/pgliteMigrator.js');
    await migratePglite(connection, config);
  } else {
    await migratePostgres(connection.db as Parameters<typeof migratePostgres>[0], config);
  }
  const after = await appliedTimes(connection);
  return journal(folder)
    .filter((entry) => after.has(entry.when) && !before.has(entry.when))
    .map((entry) => entry.tag);
}
