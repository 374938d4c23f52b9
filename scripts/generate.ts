// npm run db:generate [-- --name <what>]: the one way migrations are written.
// 1. drizzle-kit generate: tables, columns, indexes and policies from src/schema and src/policies.
// 2. The SQL sources (src/sql): every unit that changed since the last
//    generation goes, in full, into one new custom migration made by
//    `drizzle-kit generate --custom`, so the journal stays drizzle-kit's own.
// 3. Checksums of new migrations, so released ones can never be edited unseen.
// On a checkout where nothing changed it writes nothing.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { journal, migrationsFolder } from '../src/migrate.js';
import { recordNewChecksums } from '../src/tools/checksums.js';
import {
  isEmptyPlan,
  loadUnits,
  migrationText,
  planMigration,
  readState,
  relationsCreatedBy,
  repoRoot,
  stateFile,
  stateOf,
} from '../src/tools/sqlSources.js';

const args = process.argv.slice(2);
const nameAt = args.indexOf('--name');
const name = nameAt >= 0 ? args[nameAt + 1] : undefined;
const drizzleKit = join(repoRoot, 'node_modules', '.bin', 'drizzle-kit');

execFileSync(drizzleKit, ['generate', ...args], { cwd: repoRoot, stdio: 'inherit' });

const units = await loadUnits();
const state = readState();
// Relations that migrations since the last generation created or recreated
// lost their grants: the sources that grant on them go into this migration too.
const entries = journal();
const since = entries.findIndex((e) => e.tag === state.lastMigration);
const recreated = new Set<string>();
for (const entry of entries.slice(since + 1)) {
  for (const relation of await relationsCreatedBy(readFileSync(join(migrationsFolder, `${entry.tag}.sql`), 'utf8'))) {
    recreated.add(relation);
  }
}
const plan = planMigration(units, state, recreated);
if (isEmptyPlan(plan)) {
  console.log('SQL sources: no changes, nothing to migrate');
  if (state.lastMigration !== entries.at(-1)?.tag) {
    writeFileSync(stateFile, `${JSON.stringify(stateOf(units, entries.at(-1)!.tag), null, 2)}\n`);
  }
} else {
  execFileSync(drizzleKit, ['generate', '--custom', '--name', name ?? 'sql_sources'], { cwd: repoRoot, stdio: 'pipe' });
  const entry = journal().at(-1)!;
  const file = join(migrationsFolder, `${entry.tag}.sql`);
  writeFileSync(file, migrationText(plan));
  writeFileSync(stateFile, `${JSON.stringify(stateOf(units, entry.tag), null, 2)}\n`);
  console.log(`SQL sources: ${plan.units.length} changed source(s), ${plan.drops.length} drop(s) -> drizzle/${entry.tag}.sql`);
  for (const unit of plan.units) console.log(`  src/sql/${unit.path}`);
  for (const object of plan.drops) console.log(`  drop ${object.kind} ${object.identity}`);
}

const recorded = recordNewChecksums();
if (recorded.length > 0) console.log(`checksums recorded for ${recorded.join(', ')}`);
