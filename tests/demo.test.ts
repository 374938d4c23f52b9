import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

// `npm run demo` as a newcomer runs it: a child process on its own embedded
// database (a fresh PGlite folder, no DATABASE_URL), run twice because it
// must be re-runnable. Whatever the test target, it uses its own PGlite.

const run = promisify(execFile);
const dataRoot = mkdtempSync(join(tmpdir(), 'witchcraft-demo-'));
afterAll(() => rmSync(dataRoot, { recursive: true, force: true }));

async function demo(): Promise<{ code: number; out: string; err: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, PGLITE_DATA_DIR: join(dataRoot, 'pglite') };
  delete env.DATABASE_URL;
  try {
    const { stdout, stderr } = await run('npx', ['tsx', 'scripts/demo.ts'], { env, maxBuffer: 10 * 1024 * 1024 });
    return { code: 0, out: stdout, err: stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: e.stdout ?? '', err: e.stderr ?? String(error) };
  }
}

/** Cells next to each other in a printed table row, separated by the printer's spacing. */
function rowLine(...cells: string[]): RegExp {
  const escaped = cells.map((c) => c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&'));
  return new RegExp(`(?:^\\s+|\\s{2,})${escaped.join('\\s{2,}')}(?:\\s|$)`, 'm');
}

/** The output with what legitimately differs between runs taken out. */
function comparable(out: string): string {
  return out
    .split('\n')
    .filter((l) => !l.startsWith('Database: ') && !l.startsWith('Removed '))
    .map((l) => l.replace(/^\s+[0-9a-f]{8}\s/, '  <id> '))
    .join('\n');
}

// Each run starts a process and, the first time, migrates: seconds, not milliseconds.
describe('npm run demo', { timeout: 120_000 }, () => {
  let first: Awaited<ReturnType<typeof demo>>;

  it('runs on a fresh embedded database: migrates, then tells the whole story', async () => {
    first = await demo();
    expect(first.err).not.toMatch(/demo failed/);
    expect(first.code).toBe(0);
    const out = first.out;
    expect(out).toMatch(/Database: embedded PGlite .*; applied \d+ migrations\./);
    for (const title of [
      '== 1. Sign-up ==',
      '== 2. Recording AI usage ==',
      '== 3. Agent sessions ==',
      '== 4. Quota: reserve before each request ==',
      "== 5. The original design's three queries, word for word ==",
      '== 6. Quota status of every demo user (getQuotaStatus) ==',
      '== 7. Row-level security, from the outside ==',
    ]) {
      expect(out).toContain(title);
    }

    // Sign-up: the trigger's profile (name from the sign-up metadata) and the free tier.
    expect(out).toMatch(rowLine('ada (email)', 'ada@demo.witchcraft.dev', 'true', '-', 'Ada Lovelace', 'free', '1000000', '5.00', '500'));
    expect(out).toContain("Guest's effective monthly token limit is now 20000");

    // Usage: each way of costing a request, and the retry counted once.
    expect(out).toMatch(rowLine('ada (email)', 'req-ada-1', 'anthropic', 'claude-sonnet-4', 'understand', '20900', '0.0519', 'price_table', 'false'));
    expect(out).toMatch(rowLine('req-ada-3', 'ollama', 'qwen2.5-coder:14b', 'implement', '6500', '0.00', 'free_local'));
    expect(out).toMatch(rowLine('req-ada-4', 'google', 'gemini-2.5-pro', 'understand', '3400', 'unknown', 'unpriced'));
    expect(out).toMatch(rowLine('req-ada-5', 'openrouter', 'deepseek/deepseek-r1', 'debug', '3700', '0.0043', 'given'));
    expect(out).toMatch(rowLine('ada (email)', 'req-ada-2', 'openai', 'gpt-4.1', 'debug', '7700', '0.0226', 'price_table', 'true'));

    // Sessions: figures kept by the database.
    expect(out).toMatch(rowLine('ada (email)', 'Fix the flaky login test', 'debug', 'completed', '5', '3', '2133', '3270', '38070', '0.10875'));
    expect(out).toMatch(rowLine('ada (email)', 'How does billing work?', 'understand', 'active', '2', '1', '1600', '1600', '5900', '0.0261'));

    // Reservations: four grants, then the refusal, a settlement and a release.
    expect(out.match(/guest-reserve-\d: granted/g)).toHaveLength(4);
    expect(out).toContain('guest-reserve-5: REFUSED by monthly_token_limit (500 tokens left, 4000 asked)');
    expect(out).toContain('released: true');
    expect(out).toContain('Guest now: 8600 used + 8000 held of 20000; 3400 tokens left.');

    // The seed's three queries: their text and their results.
    expect(out).toContain('SUM(cost_usd) as total_cost');
    expect(out).toMatch(rowLine('provider', 'model', 'total_tokens', 'total_cost'));
    expect(out).toMatch(rowLine('anthropic', 'claude-sonnet-4', '64870', '0.18675'));
    expect(out).toMatch(rowLine('openrouter', 'deepseek/deepseek-r1', '3700', '0.0043'));
    expect(out).toContain('COUNT(m.id) as message_count');
    expect(out).toMatch(/^\s+[0-9a-f]{8}\s+ada@demo\.witchcraft\.dev\s+understand\s+How does billing work\?\s+active\s+2$/m);
    expect(out).toContain('q.monthly_token_limit - COALESCE(SUM(d.total_tokens), 0) as tokens_remaining');
    expect(out).toMatch(rowLine('ada (email)', 'ada@demo.witchcraft.dev', '1000000', '86170', '913830'));
    expect(out).toMatch(rowLine('guest (anonymous)', '-', '20000', '8600', '11400'));

    // Quota table: holds count, the guest is past the warning threshold.
    expect(out).toMatch(rowLine('guest (anonymous)', 'free', '20000', '8600', '8000', '3400', '83%', '0.0256 of 5.00', '2 of 500', 'true', 'false'));

    // RLS as seen by a user and by anon.
    expect(out).toContain('Ada (authenticated) sees 9 of the 12 usage events in the database: her own.');
    expect(out).toContain("Ada asks for the phone user's quota status: null.");
    expect(out).toContain('anon (no sign-in) reads usage events: permission denied for table ai_usage_events.');
  });

  it('runs again on the same database: removes its own users and prints the same story', async () => {
    const second = await demo();
    expect(second.err).not.toMatch(/demo failed/);
    expect(second.code).toBe(0);
    expect(second.out).toContain('schema up to date');
    expect(second.out).toContain('Removed 3 users left by an earlier demo run');
    expect(comparable(second.out)).toBe(comparable(first.out));
  });
});
