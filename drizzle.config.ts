import { defineConfig } from 'drizzle-kit';

// drizzle-kit reads the schema barrel and writes SQL migrations to drizzle/.
// `generate` needs no database; `migrate`, `check` against a live database and
// `studio` use DATABASE_URL (a direct Supabase connection on port 5432).
export default defineConfig({
  dialect: 'postgresql',
  schema: ['./src/schema/index.ts', './src/policies/index.ts'],
  out: './drizzle',
  casing: 'snake_case',
  strict: true,
  verbose: true,
  // anon, authenticated, service_role, ... already exist on Supabase: never create them.
  entities: { roles: { provider: 'supabase' } },
  dbCredentials: { url: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres' },
  migrations: { table: '__drizzle_migrations', schema: 'drizzle' },
});
