// npm run db:migrate: applies pending migrations to DATABASE_URL when set,
// otherwise to the embedded PGlite database in .data/pglite (made to look like
// a Supabase project first). Prints what it applied; a second run applies nothing.
import { connect, connectionLabel } from '../src/local/index.js';
import { runMigrations } from '../src/migrate.js';

const connection = await connect();
const where = connectionLabel(connection);
try {
  const applied = await runMigrations(connection);
  if (applied.length === 0) {
    console.log(`${where}: up to date, no migrations to apply.`);
  } else {
    console.log(`${where}: applied ${applied.length} migration(s):`);
    for (const tag of applied) console.log(`  ${tag}`);
  }
} catch (error) {
  console.error(`${where}: migration failed:`, error instanceof Error ? error.message : error);
  process.exitCode = 1;
} finally {
  await connection.close();
}
