import { z } from 'zod';
import { limits, messages } from '../schema/limits.js';

export const claimNotificationsInput = z
  .object({
    /** How many notifications to claim at most. */
    batch: z.number().int('must be a whole number').min(1, messages.claimBatch).max(limits.notificationClaimBatchMax, messages.claimBatch).default(100),
    /** How long a claim holds before the row is handed out again, in seconds; doubled for every earlier attempt. */
    visibilitySeconds: z
      .number()
      .int('must be a whole number')
      .min(limits.notificationVisibilityMinSeconds, messages.visibility)
      .max(limits.notificationVisibilityMaxSeconds, messages.visibility)
      .default(30),
  })
  .strict();
export type ClaimNotificationsInput = z.input<typeof claimNotificationsInput>;

const claimedRow = {
  id: z.number().int().positive('must be a notification id'),
  claimId: z.uuid('must be a uuid'),
};

export const ackNotificationInput = z.object(claimedRow).strict();

export const failNotificationInput = z
  .object({ ...claimedRow, error: z.string().transform((s) => s.slice(0, limits.notificationErrorLength)) })
  .strict();

export const purgeNotificationsInput = z
  .object({
    /** Delivered (or given up) longer ago than this many days. */
    olderThanDays: z.number().int('must be a whole number').min(limits.notificationPurgeMinDays, messages.notificationPurgeAge).max(36500),
    /** Also any notification created longer ago than this, delivered or not (deployments without an outbox worker). */
    undeliveredOlderThanDays: z
      .number()
      .int('must be a whole number')
      .min(limits.notificationPurgeMinDays, messages.notificationPurgeAge)
      .max(36500)
      .optional(),
    batchSize: z.number().int().min(1, messages.purgeBatch).max(limits.purgeBatchMax, messages.purgeBatch).default(10_000),
  })
  .strict();
