// npm run db:lint-migrations: refuses destructive or table-rewriting
// statements in migrations newer than the baseline in
// drizzle/migration-safety.json, unless the migration acknowledges them.
import { migrationsFolder } from '../src/migrate.js';
import { checkMigrations } from '../src/tools/migrationSafety.js';

const folder = process.argv[2] ?? migrationsFolder;
const { checked, findings } = await checkMigrations(folder);
for (const finding of findings) console.error(finding.message);
if (findings.length > 0) {
  console.error(`migration safety: ${findings.length} statement(s) refused in ${checked.length} new migration(s).`);
  process.exitCode = 1;
} else {
  console.log(`migration safety: ${checked.length} migration(s) after the baseline checked, nothing refused.`);
}
