import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { schema, type Db } from './db.js';
import { applySupabaseEmulation } from './local/supabaseEmulation.js';

/** A Drizzle client and how to let go of it. */
export interface Connection {
  db: Db;
  kind: 'postgres' | 'pglite';
  /** The connection string, when there is a server behind the client. */
  url?: string;
  /** Runs one SQL statement with `$1`-style parameters, through the driver itself. */
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export interface UrlOptions {
  /** Pool size (postgres.js). */
  max?: number;
  /**
   * Prepared statements. Supabase's transaction pooler (port 6543) does not
   * keep them between transactions: pass `false` there. Defaults to false
   * when the URL's port is 6543.
   */
  prepare?: boolean;
}

// snake_case in SQL, camelCase in TypeScript; drizzle.config.ts says the same.
const drizzleOptions = { schema, casing: 'snake_case' } as const;

/** A database reached by URL: any PostgreSQL 15 or newer, Supabase included. */
export function connectUrl(url: string, options: UrlOptions = {}): Connection {
  const prepare = options.prepare ?? new URL(url).port !== '6543';
  const client = postgres(url, { max: options.max ?? 10, prepare, onnotice: () => {} });
  return {
    db: drizzlePostgres({ client, ...drizzleOptions }) as unknown as Db,
    kind: 'postgres',
    url,
    query: async <T>(text: string, params: unknown[] = []) =>
      (await client.unsafe(text, params as postgres.ParameterOrJSON<never>[])) as unknown as T[],
    close: () => client.end({ timeout: 5 }),
  };
}

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
    db: drizzlePglite({ client, ...drizzleOptions }) as unknown as Db,
    kind: 'pglite',
    client,
    query: async <T>(text: string, params: unknown[] = []) => (await client.query<T>(text, params)).rows,
    close: () => client.close(),
  };
}

/**
 * A throwaway PostgreSQL in Docker (testcontainers), emulating Supabase like
 * the embedded database. Needs a Docker engine; throws when there is none.
 */
export async function startContainer(image = 'postgres:17-alpine'): Promise<Connection> {
  const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
  const container = await new PostgreSqlContainer(image).start();
  const url = container.getConnectionUri();
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  try {
    await applySupabaseEmulation((text) => admin.unsafe(text));
  } finally {
    await admin.end();
  }
  const connection = connectUrl(url);
  return {
    ...connection,
    close: async () => {
      await connection.close();
      await container.stop();
    },
  };
}

/** Where the embedded database keeps its data unless told otherwise. */
export const defaultDataDir = process.env.PGLITE_DATA_DIR ?? '.data/pglite';

/**
 * The database this process should use: `DATABASE_URL` when set, otherwise
 * the embedded PGlite database in `.data/pglite`.
 */
export async function connect(env: NodeJS.ProcessEnv = process.env): Promise<Connection> {
  if (env.DATABASE_URL) return connectUrl(env.DATABASE_URL);
  return openPglite({ dataDir: env.PGLITE_DATA_DIR ?? defaultDataDir });
}
