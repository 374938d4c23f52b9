import type { DbOrTx } from '../db.js';
import { withInputErrors } from '../errors.js';
import { callFunction } from '../rpc.js';

/** What one `run_maintenance()` call did. */
export interface MaintenanceRun {
  /** True when another run was in progress: this one did nothing. */
  skipped: boolean;
  /** ai_usage_events partitions made (months ahead, and months of strays). */
  partitionsMade: number;
  /** Rows left in the default partition after the strays were moved: 0 unless something is wrong. */
  defaultPartitionRows: number;
  reservationsExpired: number;
  sessionsClosed: number;
  /** Partitions dropped by the event retention (witchcraft.usage_retention_days). */
  partitionsDropped: string[];
  keysPurged: number;
  reservationsPurged: number;
  rateLimitStatesPurged: number;
  notificationsPurged: number;
  /** Null when the audit log has no retention (witchcraft.audit_retention_days unset). */
  auditEntriesPurged: number | null;
}

/**
 * Everything periodic, once: partitions ahead, expired reservations, idle
 * sessions, retention (README, "Partitions and maintenance"). Call it every
 * minute or few from a worker where pg_cron is not installed; each call does
 * bounded work and overlapping calls are safe (the second is skipped).
 */
export async function runMaintenance(db: DbOrTx): Promise<MaintenanceRun> {
  const r = (await withInputErrors(() => callFunction(db, 'run_maintenance'))) as Record<string, unknown>;
  const skipped = typeof r.skipped === 'string';
  // A skipped run reports nothing: every count is 0.
  const count = (value: unknown) => Number(value ?? 0);
  return {
    skipped,
    partitionsMade: count(r.partitions_made),
    defaultPartitionRows: count(r.default_partition_rows),
    reservationsExpired: count(r.reservations_expired),
    sessionsClosed: count(r.sessions_closed),
    partitionsDropped: (r.partitions_dropped as string[] | undefined) ?? [],
    keysPurged: count(r.keys_purged),
    reservationsPurged: count(r.reservations_purged),
    rateLimitStatesPurged: count(r.rate_limit_states_purged),
    notificationsPurged: count(r.notifications_purged),
    auditEntriesPurged: r.audit_entries_purged == null ? null : Number(r.audit_entries_purged),
  };
}
