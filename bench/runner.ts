import postgres from 'postgres';
import { quantile } from './stats.js';

export type Sql = postgres.Sql;

/** Throughput and client-side latency of one operation run from several connections. */
export interface LoadResult {
  operations: number;
  seconds: number;
  perSecond: number;
  p50Ms: number;
  p95Ms: number;
}

/**
 * Runs `op` in a loop on `connections` connections (one postgres.js client
 * each, so every worker is one database session) for `seconds`, after a short
 * warm-up. `op(sql, worker, i)` gets the worker's client, its number and a
 * counter unique across the run.
 */
export async function runLoad(
  url: string,
  connections: number,
  seconds: number,
  op: (sql: Sql, worker: number, i: number) => Promise<unknown>,
  warmupSeconds = Math.min(1, seconds / 5),
): Promise<LoadResult> {
  const clients = Array.from({ length: connections }, () => postgres(url, { max: 1, onnotice: () => {} }));
  let counter = 0;
  try {
    // Warm-up: open the sessions, prepare statements, fill caches.
    const warmEnd = Date.now() + warmupSeconds * 1000;
    await Promise.all(
      clients.map(async (sql, worker) => {
        while (Date.now() < warmEnd) await op(sql, worker, counter++);
      }),
    );
    const latencies: number[] = [];
    let operations = 0;
    const start = performance.now();
    const end = start + seconds * 1000;
    await Promise.all(
      clients.map(async (sql, worker) => {
        while (performance.now() < end) {
          const t0 = performance.now();
          await op(sql, worker, counter++);
          latencies.push(performance.now() - t0);
          operations++;
        }
      }),
    );
    const elapsed = (performance.now() - start) / 1000;
    return {
      operations,
      seconds: elapsed,
      perSecond: operations / elapsed,
      p50Ms: quantile(latencies, 0.5),
      p95Ms: quantile(latencies, 0.95),
    };
  } finally {
    await Promise.all(clients.map((c) => c.end({ timeout: 5 })));
  }
}

/**
 * Two operations measured in alternating rounds (baseline, measured,
 * baseline, ...), so that a change in what else the machine is doing weighs
 * on both alike. Returns each side's totals over all its rounds.
 */
export async function runLoadPaired(
  url: string,
  connections: number,
  seconds: number,
  baseline: (sql: Sql, worker: number, i: number) => Promise<unknown>,
  measured: (sql: Sql, worker: number, i: number) => Promise<unknown>,
  rounds = 4,
): Promise<{ baseline: LoadResult; measured: LoadResult }> {
  const parts: [LoadResult[], LoadResult[]] = [[], []];
  const slice = seconds / rounds;
  for (let round = 0; round < rounds; round++) {
    parts[0].push(await runLoad(url, connections, slice, baseline, Math.min(0.5, slice / 4)));
    parts[1].push(await runLoad(url, connections, slice, measured, Math.min(0.5, slice / 4)));
  }
  const combine = (results: LoadResult[]): LoadResult => {
    const operations = results.reduce((n, r) => n + r.operations, 0);
    const time = results.reduce((n, r) => n + r.seconds, 0);
    const mid = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
    return { operations, seconds: time, perSecond: operations / time, p50Ms: mid(results.map((r) => r.p50Ms)), p95Ms: mid(results.map((r) => r.p95Ms)) };
  };
  return { baseline: combine(parts[0]), measured: combine(parts[1]) };
}

/**
 * Several runs of one side as one figure: their operations over their time;
 * the latency quantiles of the worst run (runs of different lengths cannot
 * be merged exactly without their samples).
 */
export function combineRuns(runs: LoadResult[]): LoadResult {
  const operations = runs.reduce((n, r) => n + r.operations, 0);
  const seconds = runs.reduce((n, r) => n + r.seconds, 0);
  return {
    operations,
    seconds,
    perSecond: operations / seconds,
    p50Ms: Math.max(...runs.map((r) => r.p50Ms)),
    p95Ms: Math.max(...runs.map((r) => r.p95Ms)),
  };
}
