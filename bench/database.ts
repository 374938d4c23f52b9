import postgres from 'postgres';
import { connectUrl } from '../src/client.js';
import { applySupabaseEmulation } from '../src/local/index.js';
import { runMigrations } from '../src/migrate.js';

/** A throwaway, migrated database on the server for one benchmark run. */
export async function createBenchDatabase(
  serverUrl: string,
): Promise<{ url: string; name: string; drop: () => Promise<void>; keep: () => Promise<void> }> {
  const name = `witchcraft_bench_${Date.now().toString(36)}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database "${name}"`);
  const u = new URL(serverUrl);
  u.pathname = `/${name}`;
  const url = u.toString();
  const connection = connectUrl(url, { max: 1 });
  try {
    await applySupabaseEmulation((text) => connection.query(text));
    await runMigrations(connection);
  } finally {
    await connection.close();
  }
  return {
    url,
    name,
    keep: () => admin.end(),
    drop: async () => {
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
      await admin.end();
    },
  };
}
