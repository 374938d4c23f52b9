import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { priceCatalog } from '../src/pricing/index.js';

// `npm run db:seed` as a deploy or a newcomer runs it: a child process on its
// own embedded database (no DATABASE_URL), run twice because it must add
// nothing the second time, then with a LiteLLM price file.

const run = promisify(execFile);
const dataRoot = mkdtempSync(join(tmpdir(), 'witchcraft-seed-'));
afterAll(() => rmSync(dataRoot, { recursive: true, force: true }));

async function seed(...args: string[]): Promise<string> {
  const env: NodeJS.ProcessEnv = { ...process.env, PGLITE_DATA_DIR: join(dataRoot, 'pglite') };
  delete env.DATABASE_URL;
  const { stdout } = await run('npx', ['tsx', 'scripts/seed.ts', ...args], { env, maxBuffer: 10 * 1024 * 1024 });
  return stdout;
}

const rowsOfCatalog = priceCatalog.prices.reduce((n, p) => n + 1 + (p.aliases?.length ?? 0), 0);

describe('npm run db:seed', { timeout: 120_000 }, () => {
  it('migrates the embedded database and loads the shipped catalog; a second run adds nothing', async () => {
    expect(await seed()).toContain(`${priceCatalog.version}: ${rowsOfCatalog} price row(s) added, 0 schedule(s) already in force`);
    expect(await seed()).toMatch(new RegExp(`${priceCatalog.version.replace(/[.@]/g, '\\$&')}: 0 price row\\(s\\) added, \\d+ schedule\\(s\\) already in force`));
  });

  it('loads a LiteLLM price file with --litellm, once', async () => {
    const file = join(dataRoot, 'prices.json');
    writeFileSync(
      file,
      JSON.stringify({
        sample_spec: { litellm_provider: 'one of the providers', mode: 'chat' },
        'mistral/seed-model': { litellm_provider: 'mistral', mode: 'chat', input_cost_per_token: 2e-7, output_cost_per_token: 6e-7 },
        'text-embedding-seed': { litellm_provider: 'openai', mode: 'embedding', input_cost_per_token: 2e-8 },
      }),
    );
    const first = await seed('--litellm', file, '--effective-from', '2025-01-01');
    expect(first).toContain(`${file}: 1 price rows read, 1 entries skipped`);
    expect(first).toContain('litellm@2025-01-01: 1 price row(s) added');
    expect(await seed('--litellm', file, '--effective-from', '2025-01-01')).toContain('litellm@2025-01-01: 0 price row(s) added, 1 schedule(s) already in force');
  });
});
