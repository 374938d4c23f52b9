import postgres from 'postgres';
import { connectUrl, type Connection } from '../client.js';
import { applySupabaseEmulation } from './supabaseEmulation.js';

/**
 * A throwaway PostgreSQL in Docker (testcontainers, a development
 * dependency), emulating Supabase like the embedded database. Needs a Docker
 * engine; throws when there is none.
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
