import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { activeSessionsQuery, checkQuotaQuery, monthlyUsageQuery } from '../src/queries/seedExamples.js';

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

/** The text of each section, from its title to the next one (or the end). */
function sections(out: string, titles: string[]): string[] {
  return titles.map((title, k) => {
    const start = out.indexOf(title);
    const next = k + 1 < titles.length ? out.indexOf(titles[k + 1]!) : out.length;
    return out.slice(start, next);
  });
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
    const titles = [
      '== 1. Sign-up ==',
      '== 2. Recording AI usage ==',
      '== 3. Agent sessions ==',
      '== 4. Quota: reserve before each request ==',
      "== 5. The original design's three queries, word for word ==",
      '== 6. Quota status of every demo user (getQuotaStatus) ==',
      '== 7. Row-level security, from the outside ==',
      '== 8. Teams: a shared budget ==',
    ];
    const at = titles.map((title) => out.indexOf(title));
    expect(at.every((i) => i >= 0), `missing: ${titles.filter((_, k) => at[k]! < 0).join(', ')}`).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(out.trimEnd().endsWith('Done. Run it again: it removes its own users first. The tests: npm test.')).toBe(true);

    // The story's facts, not its figures: amounts and token counts belong to
    // the usage and quota tests, and a price change must not break this one.
    const story = sections(out, titles);

    // 1. Three sign-ups, each with a profile (the name from the sign-up metadata) and a quota;
    // the anonymous guest on the anonymous tier.
    for (const user of ['ada (email)', 'phone user', 'guest (anonymous)']) expect(story[0]!).toMatch(rowLine(user));
    expect(story[0]!).toMatch(/ada \(email\)\s+ada@demo\.witchcraft\.dev\s+true\s+-\s+Ada Lovelace\s+free\s/);
    expect(story[0]!).toMatch(rowLine('guest (anonymous)', '-', 'false', '-', '-', 'anonymous', '20000'));
    expect(story[0]!).toContain('The guest signed in anonymously, so the database put them on the anonymous tier');

    // 2. Each way of costing a request, and the retry counted once.
    for (const source of ['price_table', 'free_local', 'unpriced', 'given']) expect(story[1]!).toMatch(new RegExp(`\\s${source}\\s+false$`, 'm'));
    expect(story[1]!).toMatch(/req-ada-4\s.*\sunknown\s+unpriced\s/);
    expect(story[1]!).toMatch(/req-ada-2\s.*\strue$/m);
    expect(story[1]!.match(/\strue$/gm)).toHaveLength(1);
    // One request per provider through its adapter, each priced (or free, or as reported).
    for (const [adapter, source] of [
      ['usageFromOpenAI', 'price_table'],
      ['usageFromOpenAI \\(batch\\)', 'price_table'],
      ['usageFromAnthropic', 'price_table'],
      ['usageFromGemini', 'price_table'],
      ['usageFromOllama', 'free_local'],
      ['usageFromOpenRouter', 'given'],
      ['usageFromAiSdk', 'price_table'],
    ]) {
      expect(story[1]!).toMatch(new RegExp(`^\\s+${adapter}\\s.*\\s${source}\\s+\\d`, 'm'));
    }

    // 3. One session completed, one still open, with the messages the demo sent.
    expect(story[2]!).toMatch(/Fix the flaky login test\s+debug\s+completed\s+5\s/);
    expect(story[2]!).toMatch(/How does billing work\?\s+understand\s+active\s+2\s/);

    // 4. Grants, then one refusal naming the limit; a hold settled, one released, and the sums add up.
    const grants = story[3]!.match(/guest-reserve-\d+: granted/g) ?? [];
    expect(grants.length).toBeGreaterThanOrEqual(2);
    expect(story[3]!).toMatch(new RegExp(`guest-reserve-${grants.length + 1}: REFUSED by monthly_token_limit \\(\\d+ tokens left, 4000 asked\\)`));
    expect(story[3]!.match(/REFUSED/g)).toHaveLength(1);
    expect(story[3]!).toContain('released: true');
    const [, used, held, limit, left] = /Guest now: (\d+) used \+ (\d+) held of (\d+); (\d+) tokens left\./.exec(story[3]!) ?? [];
    expect(Number(held)).toBe(4000 * (grants.length - 2));
    expect(Number(limit)).toBe(20000);
    expect(Number(used) + Number(held) + Number(left)).toBe(20000);
    // The refusal was told to the guest once (read as the guest, under RLS) and delivered once by the outbox.
    expect(story[3]!.match(/limit_refused\s+monthly_tokens\s+100\s/g)).toHaveLength(1);
    expect(story[3]!).toMatch(/outbox worker claimed and acknowledged [1-9]\d* notification\(s\)/);

    // 5. The seed's three SQL texts, printed word for word, and their results.
    for (const query of [monthlyUsageQuery, activeSessionsQuery, checkQuotaQuery]) {
      expect(story[4]!).toContain(query.split('\n').map((l) => `    ${l}`).join('\n'));
    }
    expect(story[4]!).toMatch(rowLine('provider', 'model', 'total_tokens', 'total_cost'));
    expect(story[4]!).toMatch(/^\s+[0-9a-f]{8}\s+ada@demo\.witchcraft\.dev\s+understand\s+How does billing work\?\s+active\s+2$/m);
    for (const user of ['ada (email)', 'phone user', 'guest (anonymous)']) expect(story[4]!).toMatch(rowLine(user));

    // 6. A quota row per user; the guest on the anonymous tier.
    for (const user of ['ada (email)', 'phone user']) expect(story[5]!).toMatch(rowLine(user, 'free', '1000000'));
    expect(story[5]!).toMatch(rowLine('guest (anonymous)', 'anonymous', '20000'));

    // 7. RLS as seen by a user and by anon.
    const [, seen, total] = /Ada \(authenticated\) sees (\d+) of the (\d+) usage events in the database: her own\./.exec(story[6]!) ?? [];
    expect(Number(seen)).toBeGreaterThan(0);
    expect(Number(seen)).toBeLessThan(Number(total));
    expect(story[6]!).toMatch(/Ada asks for her own quota status: \d+ tokens remaining\./);
    expect(story[6]!).toContain("Ada asks for the phone user's quota status: null.");
    expect(story[6]!).toContain('anon (no sign-in) reads usage events: permission denied for table ai_usage_events.');

    // 8. A team of three; a member at their cap refused while another goes on; a rate-limit refusal with its retry; a grant.
    expect(story[7]!).toMatch(rowLine('ada', 'owner'));
    expect(story[7]!).toMatch(rowLine('grace', 'admin'));
    expect(story[7]!).toMatch(rowLine('linus', 'member'));
    expect(story[7]!).toContain('asks for 1,000 more: REFUSED by member_token_cap.');
    expect(story[7]!).toContain('Grace asks for 1,000 at the same time: granted');
    expect(story[7]!).toMatch(/team-grace-2: granted\n\s+team-grace-3: granted\n\s+team-grace-4: REFUSED by organisation_requests_per_minute, retry in about \d+ s/);
    expect(story[7]!).toMatch(rowLine('team', '50000000', '100000', '4500', '3000', '5000', '4500', '500'));
    expect(story[7]!).toMatch(rowLine('Launch promotion', '100000', '100000'));
    expect(story[7]!).toContain('reads the per-member figures of 1 member: his own.');
  });

  it('runs again on the same database: removes its own users and prints the same story', async () => {
    const second = await demo();
    expect(second.err).not.toMatch(/demo failed/);
    expect(second.code).toBe(0);
    expect(second.out).toContain('schema up to date');
    expect(second.out).toContain('Removed 5 users left by an earlier demo run');
    expect(comparable(second.out)).toBe(comparable(first.out));
  });
});
