// The throughput figures again, driven by pgbench (PostgreSQL's C client)
// instead of Node: `npm run bench -- --pgbench`. On this 2-core machine the
// Node client shares the cores with the server and its own cost per call
// weighs on both sides of a ratio alike, which flatters it; pgbench costs
// the server almost nothing. Each figure alternates its two sides in rounds,
// every side on its own users, sessions and reservations, and each call of
// both sides does the same lookups (its user, session and next reservation),
// so that only the operation differs.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { combineRuns, type LoadResult, type Sql } from './runner.js';
import { quantile } from './stats.js';

/** The pgbench on PATH (its version line), or undefined when there is none. */
export function pgbenchVersion(): string | undefined {
  try {
    return execFileSync('pgbench', ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

/** pgbench's connection arguments and environment for a postgres:// URL. */
function connectionOf(url: string): { args: string[]; env: NodeJS.ProcessEnv } {
  const u = new URL(url);
  const args = ['-h', u.hostname || '127.0.0.1', '-p', u.port || '5432'];
  if (u.username) args.push('-U', decodeURIComponent(u.username));
  args.push(decodeURIComponent(u.pathname.slice(1)));
  const env = { ...process.env };
  if (u.password) env.PGPASSWORD = decodeURIComponent(u.password);
  return { args, env };
}

/** One pgbench run of `script` (prepared statements, as a service's driver uses them). */
export async function runPgbench(url: string, script: string, clients: number, seconds: number): Promise<LoadResult> {
  const dir = mkdtempSync(join(tmpdir(), 'witchcraft-pgbench-'));
  const file = join(dir, 'script.sql');
  writeFileSync(file, script);
  const { args, env } = connectionOf(url);
  const threads = Math.min(2, clients);
  try {
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(
        'pgbench',
        // -l: a line per transaction (its latency in µs is the third field), for the quantiles.
        ['-n', '-M', 'prepared', '-c', String(clients), '-j', String(threads), '-T', String(Math.max(1, Math.round(seconds))),
          '-l', `--log-prefix=${join(dir, 'tx')}`, '-f', file, ...args],
        { env },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('error', reject);
      child.on('close', (code) => {
        // A client that fails stops pgbench's run for it: any error is a failed figure.
        if (code !== 0 || /error|aborted/i.test(stderr)) reject(new Error(`pgbench failed (${code}): ${stderr.trim().slice(0, 2000)}`));
        else resolve(stdout);
      });
    });
    const number = (pattern: RegExp) => {
      const m = pattern.exec(out);
      if (!m) throw new Error(`pgbench: could not read ${pattern} from its output:\n${out}`);
      return Number(m[1]);
    };
    const transactions = number(/number of transactions actually processed: (\d+)/);
    const failed = /number of failed transactions: (\d+)/.exec(out);
    if (failed && Number(failed[1]) > 0) throw new Error(`pgbench: ${failed[1]} transactions failed:\n${out}`);
    const tps = number(/tps = ([\d.]+) \(without initial connection time\)/);
    const latencies = readdirSync(dir)
      .filter((name) => name.startsWith('tx.'))
      .flatMap((name) => readFileSync(join(dir, name), 'utf8').split('\n'))
      .filter((line) => line !== '')
      .map((line) => Number(line.split(' ')[2]) / 1000);
    return {
      operations: transactions,
      seconds: transactions / tps,
      perSecond: tps,
      p50Ms: quantile(latencies, 0.5),
      p95Ms: quantile(latencies, 0.95),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Two scripts alternating in `rounds` rounds; each side's figure is its total over its rounds. */
export async function pgbenchPaired(
  url: string,
  clients: number,
  seconds: number,
  baseline: string,
  measured: string,
  rounds = 3,
): Promise<{ baseline: LoadResult; measured: LoadResult }> {
  const sides: [LoadResult[], LoadResult[]] = [[], []];
  for (let round = 0; round < rounds; round++) {
    // Alternate which side goes first.
    const order = round % 2 === 0 ? ([0, 1] as const) : ([1, 0] as const);
    for (const side of order) sides[side].push(await runPgbench(url, side === 0 ? baseline : measured, clients, seconds / rounds));
  }
  return { baseline: combineRuns(sides[0]), measured: combineRuns(sides[1]) };
}

/**
 * A pool of callers for pgbench scripts: pgbench client k (its :client_id)
 * acts as `users[k % n]` with `sessions[k % n]`, and settles the next of its
 * pool's active reservations made ahead (a sequence per pool hands them
 * out). Returns the SQL fragments a script uses for its user, session and
 * reservation, and a check that no pool ran dry.
 */
export async function callerPool(sql: Sql, name: string, users: string[], sessions: string[], reservations: string[][]) {
  await sql.unsafe(`create table if not exists bench.pgbench_reservations (pool text, slot int, n bigint, id uuid, primary key (pool, slot, n))`);
  for (const [slot, ids] of reservations.entries()) {
    await sql.unsafe(`create sequence if not exists bench.pgbench_${name}_${slot}`);
    await sql.unsafe(
      `insert into bench.pgbench_reservations (pool, slot, n, id) select $1, $2, o, id from unnest($3::uuid[]) with ordinality as r(id, o)`,
      [name, slot, ids],
    );
  }
  await sql.unsafe(`vacuum (analyze) bench.pgbench_reservations`);
  const list = (values: string[]) => `(array[${values.map((v) => `'${v}'`).join(', ')}]::uuid[])`;
  const n = users.length;
  return {
    /** `\set` line: the pool slot of this client. */
    slot: `\\set slot :client_id % ${n}`,
    user: `${list(users)}[:slot + 1]`,
    session: `${list(sessions)}[:slot + 1]`,
    reservation: `(select r.id from bench.pgbench_reservations r where r.pool = '${name}' and r.slot = :slot and r.n = (select nextval(('bench.pgbench_${name}_' || :slot)::regclass)))`,
    /** Throws when a client needed more reservations than were made ahead. */
    async checkNotDry(): Promise<void> {
      for (const [slot, ids] of reservations.entries()) {
        const [row] = await sql.unsafe<{ last: string | null }[]>(`select last_value::text as last from bench.pgbench_${name}_${slot}`);
        if (Number(row?.last ?? 0) >= ids.length) {
          throw new Error(`bench: pgbench pool ${name} ran out of reservations (slot ${slot}); raise the capacity in bench/run.ts`);
        }
      }
    },
  };
}
