// npm run db:emulate: makes a plain PostgreSQL server's database (DATABASE_URL)
// look like a Supabase project (roles, default privileges, auth schema), so
// that `drizzle-kit migrate` can run against it as it would on Supabase.
// Never point this at a real Supabase project: it already has all of this.
import postgres from 'postgres';
import { applySupabaseEmulation } from '../src/local/index.js';

const url = process.env.DATABASE_URL;
if (!url) {
  console.error('db:emulate: set DATABASE_URL to the local database to prepare');
  process.exit(1);
}
const client = postgres(url, { max: 1, onnotice: () => {} });
try {
  await applySupabaseEmulation((text) => client.unsafe(text));
  console.log('db:emulate: Supabase roles, privileges and auth schema are in place');
} finally {
  await client.end();
}
