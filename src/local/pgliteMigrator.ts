import type { MigrationConfig } from 'drizzle-orm/migrator';
import { migrate } from 'drizzle-orm/pglite/migrator';
import type { Connection } from '../client.js';

/**
 * Drizzle's migrator for an embedded database. runMigrations loads this file
 * only when it is given a PGlite connection, so migrating a server never
 * loads PGlite.
 */
export async function migratePglite(connection: Connection, config: MigrationConfig): Promise<void> {
  if (connection.kind !== 'pglite') throw new Error('migratePglite: not a PGlite connection');
  await migrate(connection.db as unknown as Parameters<typeof migrate>[0], config);
}
