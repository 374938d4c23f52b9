import { sql } from 'drizzle-orm';
import { bigint, index, numeric, pgTable, smallint, text, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { timestamptz } from './columns.js';
import { notificationKind, quotaLimit } from './enums.js';
import { profiles } from './profiles.js';

/**
 * Quota notifications: a user's usage reached an alert threshold of a limit,
 * or a reservation was refused at a limit. Written by the accounting
 * functions in the transaction that reached it, once per user, limit, kind,
 * threshold and period (the unique key); a retry, a duplicate key or a
 * hundred concurrent requests make one row.
 *
 * Two readers: the signed-in user, through Supabase Realtime (the table is in
 * the supabase_realtime publication, RLS applies) and the API, who may set
 * read_at and nothing else; and backends, through the outbox functions
 * (claim_notifications, ack_notification, fail_notification), which own the
 * delivery columns.
 */
export const quotaNotifications = pgTable(
  'quota_notifications',
  {
    id: bigint({ mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    userId: uuid()
      .notNull()
      .references(() => profiles.id, { onDelete: 'cascade' }),
    kind: notificationKind().notNull(),
    quotaLimit: quotaLimit().notNull(),
    // The threshold reached, in percent of the limit (100 for a refusal).
    thresholdPercent: smallint().notNull(),
    // Start of the period it belongs to: the quota period for monthly limits,
    // the UTC day for daily requests. A new period starts a new series.
    periodStart: timestamptz().notNull(),
    // The figures when it was written: what was used (exactly, in the same
    // transaction) and the limit.
    used: numeric().notNull(),
    limitValue: numeric().notNull(),
    createdAt: timestamptz().notNull().defaultNow(),
    // Set by the user (the only column they may change).
    readAt: timestamptz(),
    // The outbox: set only by the delivery functions.
    deliveredAt: timestamptz(),
    claimId: uuid(),
    claimedUntil: timestamptz(),
    attempts: smallint().notNull().default(0),
    lastError: text(),
    gaveUpAt: timestamptz(),
  },
  (t) => [
    // Exactly once per series; also serves the foreign key and a user's list.
    uniqueIndex('quota_notifications_once_key').on(t.userId, t.quotaLimit, t.kind, t.thresholdPercent, t.periodStart),
    // What claim_notifications looks through: the rows still to deliver, oldest first.
    index('quota_notifications_outbox_idx')
      .on(t.id)
      .where(sql`${t.deliveredAt} is null and ${t.gaveUpAt} is null`),
    // What retention looks through.
    index('quota_notifications_done_idx')
      .on(sql`coalesce(${t.deliveredAt}, ${t.gaveUpAt})`)
      .where(sql`${t.deliveredAt} is not null or ${t.gaveUpAt} is not null`),
    // No CHECK constraints: rows are written only by the accounting and
    // outbox functions; the user's one column, read_at, is any time.
  ],
).enableRLS();

export type QuotaNotification = typeof quotaNotifications.$inferSelect;
