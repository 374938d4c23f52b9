import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { sql, type SQL } from 'drizzle-orm';
import { inject } from 'vitest';
import { connectUrl, type Connection } from '../../src/client.js';
import { queryRows, type Db } from '../../src/db.js';
import { applySupabaseEmulation } from '../../src/local/supabaseEmulation.js';
import { openPglite } from '../../src/local/index.js';
import { migrationsFolder, runMigrations } from '../../src/migrate.js';
import type { TargetInfo, TargetKind } from './target.js';

/** A fresh, migrated database of its own for one test file. */
export interface TestDatabase {
  kind: TargetKind;
  /** Drizzle client as the migrating role (postgres, superuser here): bypasses RLS. */
  db: Db;
  /** Raw SQL as the migrating role, rows back. */
  rows<T = Record<string, unknown>>(query: SQL): Promise<T[]>;
  /** One SQL statement with `$1` parameters, through the driver. */
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  /** Connection string of this file's database (server only): for extra connections. */
  url?: string;
  /** Another independent connection pool to the same database (server only). */
  connect(max?: number): Connection;
  close(): Promise<void>;
}

export function target(): TargetInfo {
  return inject('target');
}

/** Why a test cannot run on PGlite: it needs several sessions at once, and PGlite is one. */
export const needsServer = 'needs several concurrent connections; PGlite is a single-connection database';

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Runs one statement on the server's admin database, on a connection of its own. */
async function asAdmin(adminUrl: string, statement: string): Promise<void> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(statement);
  } finally {
    await admin.end();
  }
}

const dropDatabase = (adminUrl: string, name: string) => asAdmin(adminUrl, `drop database if exists "${name}" with (force)`);

/** Makes the database for one test file: a copy of the migrated template, or a new PGlite. */
export async function freshDatabase(): Promise<TestDatabase> {
  const info = target();
  if (info.kind === 'pglite') {
    const connection = await openPglite();
    await runMigrations(connection);
    return {
      kind: 'pglite',
      db: connection.db,
      rows: (query) => queryRows(connection.db, query),
      query: (text, params) => connection.query(text, params),
      connect: () => {
        throw new Error(`connect(): ${needsServer}`);
      },
      close: () => connection.close(),
    };
  }

  const adminUrl = info.adminUrl!;
  const name = `witchcraft_test_${randomBytes(6).toString('hex')}`;
  await asAdmin(adminUrl, `create database "${name}" template "${info.templateDatabase}"`);
  const url = withDatabase(adminUrl, name);
  const main = connectUrl(url, { max: 4 });
  const extra: Connection[] = [];
  return {
    kind: 'server',
    db: main.db,
    url,
    rows: (query) => queryRows(main.db, query),
    query: (text, params) => main.query(text, params),
    connect: (max = 10) => {
      const c = connectUrl(url, { max });
      extra.push(c);
      return c;
    },
    close: async () => {
      await Promise.all(extra.map((c) => c.close()));
      await main.close();
      await dropDatabase(adminUrl, name);
    },
  };
}

export { sql };

/**
 * A database migrated only up to (and including) the migration `tag`: what a
 * project deployed at that release holds. The journal is cut in a copy of
 * drizzle/, so later migrations are unknown to it.
 */
export interface DeployedDatabase {
  query: TestDatabase['query'];
  /** Applies the migrations after `tag`, as a deploy of the current release would. */
  migrateForward(): Promise<string[]>;
  close(): Promise<void>;
}

export async function databaseMigratedTo(tag: string): Promise<DeployedDatabase> {
  const folder = mkdtempSync(join(tmpdir(), 'witchcraft-migrations-'));
  cpSync(migrationsFolder, folder, { recursive: true });
  const journalFile = join(folder, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalFile, 'utf8')) as { entries: { tag: string }[] };
  const last = journal.entries.findIndex((e) => e.tag === tag);
  if (last < 0) throw new Error(`databaseMigratedTo: no migration ${tag}`);
  journal.entries = journal.entries.slice(0, last + 1);
  writeFileSync(journalFile, JSON.stringify(journal));
  const cleanUp = () => rmSync(folder, { recursive: true, force: true });

  const info = target();
  if (info.kind === 'pglite') {
    const connection = await openPglite();
    await runMigrations(connection, folder);
    return {
      query: (text, params) => connection.query(text, params),
      migrateForward: () => runMigrations(connection),
      close: async () => {
        await connection.close();
        cleanUp();
      },
    };
  }
  const name = `witchcraft_at_${randomBytes(6).toString('hex')}`;
  await asAdmin(info.adminUrl!, `create database "${name}"`);
  const connection = connectUrl(withDatabase(info.adminUrl!, name), { max: 1 });
  await applySupabaseEmulation((text) => connection.query(text));
  await runMigrations(connection, folder);
  return {
    query: (text, params) => connection.query(text, params),
    migrateForward: () => runMigrations(connection),
    close: async () => {
      await connection.close();
      await dropDatabase(info.adminUrl!, name);
      cleanUp();
    },
  };
}
