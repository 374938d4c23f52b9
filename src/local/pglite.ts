import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import type { Connection } from '../client.js';
import { drizzleOptions, type Db } from '../db.js';
import { applySupabaseEmulation } from './supabaseEmulation.js';

export interface PgliteOptions {
  /** Folder that keeps the data; omit for a database in memory. */
  dataDir?: string;
}

/**
 * The embedded database: PostgreSQL in WebAssembly, no server. It is made to
 * look like a Supabase project (roles, grants, the auth schema) before
 * anything else runs, so migrations and policies behave as they would there.
 */
export async function openPglite(options: PgliteOptions = {}): Promise<Connection & { client: PGlite }> {
  if (options.dataDir) mkdirSync(resolve(options.dataDir), { recursive: true });
  const client = options.dataDir ? new PGlite(resolve(options.dataDir)) : new PGlite();
  await client.waitReady;
  await applySupabaseEmulation((text) => client.exec(text));
  return {
    db: drizzle({ client, ...drizzleOptions }) as unknown as Db,
    kind: 'pglite',
    client,
    query: async <T>(text: string, params: unknown[] = []) => (await client.query<T>(text, params)).rows,
    close: () => client.close(),
  };
}
