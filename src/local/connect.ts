import { connectUrl, type Connection } from '../client.js';
import { openPglite } from './pglite.js';

/** Where the embedded database keeps its data unless told otherwise. */
export const defaultDataDir = process.env.PGLITE_DATA_DIR ?? '.data/pglite';

/**
 * The database a local script should use: `DATABASE_URL` when set, otherwise
 * the embedded PGlite database in `.data/pglite`.
 */
export async function connect(env: NodeJS.ProcessEnv = process.env): Promise<Connection> {
  if (env.DATABASE_URL) return connectUrl(env.DATABASE_URL);
  return openPglite({ dataDir: env.PGLITE_DATA_DIR ?? defaultDataDir });
}

/** What a local script says it is working on: the embedded database's folder, or DATABASE_URL. */
export function connectionLabel(connection: Connection, env: NodeJS.ProcessEnv = process.env): string {
  return connection.kind === 'pglite' ? `embedded PGlite (${env.PGLITE_DATA_DIR ?? '.data/pglite'})` : 'DATABASE_URL';
}
