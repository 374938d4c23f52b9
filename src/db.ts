import type { SQL } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import type { ExtractTablesWithRelations } from 'drizzle-orm';
import * as schema from './schema/index.js';

export type Schema = typeof schema;

/** A Drizzle client over any driver we support (postgres.js or PGlite). */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;

/** A transaction of such a client. */
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;

/** What the typed queries take: the database, or a transaction already under way. */
export type DbOrTx = Db | Tx;

/**
 * Runs raw SQL and returns its rows, whatever the driver: postgres.js returns
 * the rows themselves, PGlite an object holding them.
 */
export async function queryRows<T = Record<string, unknown>>(db: DbOrTx, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown;
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

// snake_case in SQL, camelCase in TypeScript; drizzle.config.ts says the same.
// The schema includes the relations (src/schema/relations.ts), so
// `db.query.<table>` works with either driver.
export const drizzleOptions = { schema, casing: 'snake_case' } as const;

export { schema };
