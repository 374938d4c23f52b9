// npm run db:seed [-- --litellm <model_prices_and_context_window.json> --effective-from <date>]:
// migrates DATABASE_URL when set, otherwise the embedded PGlite database in
// .data/pglite, then loads the shipped price catalog with syncPrices, as
// service_role. With --litellm it loads that LiteLLM price file too (its
// prices take effect on --effective-from, today by default). A second run
// adds nothing.
import { readFileSync } from 'node:fs';
import { asService } from '../src/index.js';
import { connect, connectionLabel } from '../src/local/index.js';
import { runMigrations } from '../src/migrate.js';
import { catalogFromLiteLLM, priceCatalog, syncPrices, type PriceCatalog } from '../src/pricing/index.js';

const args = process.argv.slice(2);
const option = (name: string) => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};

const catalogs: PriceCatalog[] = [priceCatalog];
const litellm = option('--litellm');
if (litellm) {
  const effectiveFrom = option('--effective-from') ?? new Date().toISOString().slice(0, 10);
  const imported = catalogFromLiteLLM(JSON.parse(readFileSync(litellm, 'utf8')), {
    effectiveFrom,
    version: `litellm@${effectiveFrom}`,
  });
  console.log(`${litellm}: ${imported.catalog.prices.length} price rows read, ${imported.skipped.length} entries skipped`);
  catalogs.push(imported.catalog);
}

const connection = await connect();
const where = connectionLabel(connection);
try {
  await runMigrations(connection);
  for (const catalog of catalogs) {
    const result = await asService(connection.db, (tx) => syncPrices(tx, catalog));
    console.log(
      `${where}: ${catalog.version}: ${result.inserted} price row(s) added, ${result.unchanged} schedule(s) already in force, ${result.providersAdded} provider(s) added`,
    );
  }
} catch (error) {
  console.error(`${where}: seeding failed:`, error instanceof Error ? error.message : error);
  process.exitCode = 1;
} finally {
  await connection.close();
}
