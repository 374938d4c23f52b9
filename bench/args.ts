// Command line of `npm run bench`: sizes and durations, with a --quick preset.
export interface BenchOptions {
  quick: boolean;
  serverUrl: string;
  connections: number;
  /** Seconds each throughput figure is measured for. */
  seconds: number;
  /** Users sharing the large history. */
  users: number;
  /** Events in the small and the large history (target 3 compares the two). */
  smallEvents: number;
  largeEvents: number;
  /** Server-side repetitions for latency medians. */
  repetitions: number;
  keep: boolean;
  /** Also measure the throughput figures with pgbench (PostgreSQL's C client). */
  pgbench: boolean;
}

export function parseArgs(argv: string[]): BenchOptions {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new Error(`bench: unexpected argument ${arg}`);
    const [key, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    if (inline !== undefined) flags.set(key, inline);
    else if (argv[i + 1] && !argv[i + 1]!.startsWith('--')) flags.set(key, argv[++i]!);
    else flags.set(key, 'true');
  }
  const quick = flags.get('quick') === 'true';
  const num = (key: string, full: number, fast: number) => {
    const raw = flags.get(key);
    if (raw === undefined) return quick ? fast : full;
    const value = Number(raw.replace(/_/g, ''));
    if (!Number.isFinite(value) || value <= 0) throw new Error(`bench: --${key} must be a positive number, got ${raw}`);
    return value;
  };
  const known = new Set(['quick', 'url', 'connections', 'seconds', 'users', 'small-events', 'large-events', 'repetitions', 'keep', 'pgbench']);
  for (const key of flags.keys()) if (!known.has(key)) throw new Error(`bench: unknown option --${key}`);
  return {
    quick,
    serverUrl: flags.get('url') ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
    connections: num('connections', 8, 8),
    seconds: num('seconds', 10, 2),
    users: num('users', 10_000, 1_000),
    smallEvents: num('small-events', 10_000, 10_000),
    largeEvents: num('large-events', 5_000_000, 100_000),
    repetitions: num('repetitions', 2_000, 300),
    keep: flags.get('keep') === 'true',
    pgbench: flags.get('pgbench') === 'true',
  };
}
