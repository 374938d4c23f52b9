// Connecting a service to its database: postgres.js only. The embedded
// database (PGlite), test containers and the Supabase emulation are for local
// use and live in '@witchcraft/db/local' (src/local/).
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import { drizzleOptions, type Db } from './db.js';

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
