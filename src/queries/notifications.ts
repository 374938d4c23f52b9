import type { z } from 'zod';
import type { DbOrTx } from '../db.js';
import { parseInput, withInputErrors } from '../errors.js';
import { callFunction } from '../rpc.js';
import { purgeInBatches } from './batches.js';
import type { NotificationKind, QuotaLimit } from '../schema/enums.js';
import {
  ackNotificationInput,
  claimNotificationsInput,
  failNotificationInput,
  purgeNotificationsInput,
  type ClaimNotificationsInput,
} from '../validation/notifications.js';

/** The channel an insert into quota_notifications wakes (NOTIFY, payload: the row's id). */
export const notificationChannel = 'quota_notifications';

/** A quota notification handed to one worker by claimNotifications. */
export interface ClaimedNotification {
  id: number;
  /** Pass it back to ackNotification or failNotification. */
  claimId: string;
  /** Deliveries tried so far, this one included. */
  attempts: number;
  userId: string;
  kind: NotificationKind;
  quotaLimit: QuotaLimit;
  thresholdPercent: number;
  /** The quota period (monthly limits) or UTC day (daily requests) it belongs to. */
  periodStart: Date;
  /** What was used when it was written, and the limit: exact decimals. */
  used: string;
  limitValue: string;
  createdAt: Date;
}

/**
 * Claims up to `batch` undelivered quota notifications for this worker
 * (service_role). Concurrent workers never get the same row while its claim
 * holds; an unacknowledged claim comes back after `visibilitySeconds`,
 * doubled for every earlier attempt, and a row is given up after
 * limits.notificationMaxAttempts attempts. Delivery is at least once: use
 * the notification's id to deduplicate downstream.
 */
export async function claimNotifications(db: DbOrTx, input: ClaimNotificationsInput = {}): Promise<ClaimedNotification[]> {
  return claim(db, parseInput(claimNotificationsInput, input));
}

/** claimNotifications with its input already checked (the worker checks it once). */
async function claim(db: DbOrTx, v: z.output<typeof claimNotificationsInput>): Promise<ClaimedNotification[]> {
  const rows = await withInputErrors(() =>
    callFunction(db, 'claim_notifications', { p_batch: v.batch, p_visibility: `${v.visibilitySeconds} seconds` }),
  );
  return rows.map((r) => ({
    id: r.id,
    claimId: r.claim_id,
    attempts: r.attempts,
    userId: r.user_id,
    kind: r.kind,
    quotaLimit: r.quota_limit,
    thresholdPercent: r.threshold_percent,
    periodStart: r.period_start,
    used: r.used,
    limitValue: r.limit_value,
    createdAt: r.created_at,
  }));
}

/** Marks a claimed notification delivered. False when the claim ran out and the row went to another worker. */
export async function ackNotification(db: DbOrTx, input: { id: number; claimId: string }): Promise<boolean> {
  const v = parseInput(ackNotificationInput, input);
  return withInputErrors(() => callFunction(db, 'ack_notification', { p_id: v.id, p_claim_id: v.claimId }));
}

/** Records a failed delivery: the row comes back after its backoff, or is given up after the last attempt. */
export async function failNotification(db: DbOrTx, input: { id: number; claimId: string; error: string }): Promise<boolean> {
  const v = parseInput(failNotificationInput, input);
  return withInputErrors(() => callFunction(db, 'fail_notification', { p_id: v.id, p_claim_id: v.claimId, p_error: v.error }));
}

/**
 * Retention: deletes, batch by batch, the quota notifications delivered or
 * given up more than `olderThanDays` ago (and, with `undeliveredOlderThanDays`,
 * every notification created longer ago than that). Returns how many.
 */
export async function purgeNotifications(
  db: DbOrTx,
  input: { olderThanDays: number; undeliveredOlderThanDays?: number; batchSize?: number },
): Promise<number> {
  const v = parseInput(purgeNotificationsInput, input);
  return purgeInBatches(v.batchSize, () =>
    callFunction(db, 'purge_notifications', {
      p_older_than: `${v.olderThanDays} days`,
      p_batch_size: v.batchSize,
      p_undelivered_older_than: v.undeliveredOlderThanDays === undefined ? undefined : `${v.undeliveredOlderThanDays} days`,
    }),
  );
}

export interface NotificationWorkerOptions extends ClaimNotificationsInput {
  /** Stops the loop; the batch in hand is finished first. */
  signal?: AbortSignal;
  /** How long to sleep when the outbox is empty, in milliseconds (default 5,000). */
  idleMs?: number;
  /**
   * Wakes the loop early when a notification is written: subscribe `onWake`
   * to NOTIFY on `notificationChannel` and return how to unsubscribe. With
   * postgres.js: `(onWake) => sql.listen(notificationChannel, onWake).then((l) => l.unlisten)`.
   */
  listen?: (onWake: () => void) => Promise<() => Promise<unknown> | unknown>;
  /** Called with what a send threw (after failNotification recorded it). */
  onError?: (error: unknown, notification: ClaimedNotification) => void;
}

export interface NotificationWorkerStats {
  delivered: number;
  failed: number;
  /** Acknowledgements refused because the claim had run out (the row went to another worker). */
  lostClaims: number;
}

/**
 * The outbox loop a backend runs to deliver quota notifications (email,
 * billing, chat): claim a batch, `send` each, acknowledge what was sent and
 * record what failed, sleep when there is nothing to do (or until NOTIFY
 * wakes it), until `signal` aborts. Several workers may run at once. `send`
 * should be idempotent on the notification's id: delivery is at least once.
 */
export async function runNotificationWorker(
  db: DbOrTx,
  send: (notification: ClaimedNotification) => Promise<void>,
  options: NotificationWorkerOptions = {},
): Promise<NotificationWorkerStats> {
  const { signal, idleMs = 5_000, listen, onError, ...claimOptions } = options;
  const claimInput = parseInput(claimNotificationsInput, claimOptions);
  const stats: NotificationWorkerStats = { delivered: 0, failed: 0, lostClaims: 0 };
  let wake: (() => void) | undefined;
  let woken = false;
  const onWake = () => {
    woken = true;
    wake?.();
  };
  const unlisten = listen ? await listen(onWake) : undefined;
  const onAbort = () => wake?.();
  signal?.addEventListener('abort', onAbort);
  try {
    while (!signal?.aborted) {
      woken = false;
      const batch = await claim(db, claimInput);
      for (const notification of batch) {
        try {
          await send(notification);
        } catch (error) {
          stats.failed += 1;
          await failNotification(db, { id: notification.id, claimId: notification.claimId, error: errorText(error) });
          onError?.(error, notification);
          continue;
        }
        if (await ackNotification(db, { id: notification.id, claimId: notification.claimId })) stats.delivered += 1;
        else stats.lostClaims += 1;
      }
      if (batch.length === claimInput.batch || woken || signal?.aborted) continue;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, idleMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
        // A wake-up or abort that came while the batch was being handled.
        if (woken || signal?.aborted) wake();
      });
      wake = undefined;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await unlisten?.();
  }
  return stats;
}

function errorText(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}
