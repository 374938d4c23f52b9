import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  numeric,
  pgTable,
  primaryKey,
  smallint,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { timestamps, timestamptz, usd } from './columns.js';
import { limits } from './limits.js';
import { reservationStatus } from './enums.js';
import { profiles } from './profiles.js';
import { organisations } from './organisations.js';

// Monthly cost limits are whole cents or finer.
const usdLimit = () => numeric({ precision: 14, scale: 4 });

/** `column between 0 and max` for each pair, as one SQL condition (NaN is above every max). */
const inRange = (bounds: [string, number][]) =>
  sql.raw(bounds.map(([column, max]) => `${column} between 0 and ${max}`).join(' and '));

/**
 * Quota tiers are plain data: `free` is the default for new users,
 * `anonymous` for Supabase's anonymous sign-ins; others are rows, not code.
 * Besides the usage limits, a tier bounds what its users may write
 * themselves through the API (sessions, messages, their sizes), so that no
 * signed-in user, anonymous ones least of all, can fill the database.
 */
export const quotaTiers = pgTable(
  'quota_tiers',
  {
    id: text().primaryKey(),
    name: text().notNull(),
    description: text(),
    monthlyTokenLimit: bigint({ mode: 'number' }).notNull(),
    monthlyCostLimitUsd: usdLimit().notNull(),
    dailyRequestLimit: integer().notNull(),
    // Percentage of a limit at which the user is warned.
    softLimitPercent: smallint().notNull().default(80),
    // Percentages of each limit at which a quota notification is written
    // (src/schema/notifications.ts), once per user, limit, threshold and period.
    alertPercents: smallint()
      .array()
      .notNull()
      .default(sql`'{50,80,100}'::smallint[]`),
    isDefault: boolean().notNull().default(false),
    // The tier of anonymous sign-ins (Supabase is_anonymous), until they link an identity.
    isAnonymousDefault: boolean().notNull().default(false),
    // What a user of the tier may write through the API.
    maxActiveSessions: integer().notNull().default(50),
    maxSessionsPerDay: integer().notNull().default(500),
    maxMessagesPerSession: integer().notNull().default(5_000),
    maxMessageChars: integer().notNull().default(limits.messageContentLength),
    maxPartsBytes: integer().notNull().default(1_048_576),
    maxMetadataBytes: integer().notNull().default(16_384),
    maxToolCallsPerMessage: integer().notNull().default(256),
    // Per-minute rate limits of each user of the tier (and of each
    // organisation of the tier, unless it overrides them); null is none.
    requestsPerMinute: integer(),
    tokensPerMinute: bigint({ mode: 'number' }),
    // Which models the tier may use: patterns of `provider/model` with `*`
    // for any characters ('anthropic/claude-*-haiku-*', 'openai/*'); null
    // allows every model. Local models (ollama and the like) are allowed
    // whatever the list says unless allow_local_models is false.
    allowedModels: text().array(),
    allowLocalModels: boolean().notNull().default(true),
    ...timestamps,
  },
  (t) => [
    // At most one default tier, and at most one for anonymous users.
    uniqueIndex('quota_tiers_one_default_key').on(t.isDefault).where(sql`${t.isDefault}`),
    uniqueIndex('quota_tiers_one_anonymous_default_key').on(t.isAnonymousDefault).where(sql`${t.isAnonymousDefault}`),
    check('quota_tiers_id_format', sql`${t.id} ~ '^[a-z][a-z0-9_-]{0,39}$'`),
    check('quota_tiers_name_length', sql`char_length(${t.name}) between 1 and 100`),
    check(
      'quota_tiers_limits_range',
      inRange([
        ['monthly_token_limit', limits.monthlyTokenLimit],
        ['monthly_cost_limit_usd', limits.monthlyCostLimitUsd],
        ['daily_request_limit', limits.dailyRequestLimit],
      ]),
    ),
    check(
      'quota_tiers_write_limits_range',
      sql.raw(`max_active_sessions between 1 and ${limits.tierActiveSessionsMax}
        and max_sessions_per_day between 1 and ${limits.tierSessionsPerDayMax}
        and max_messages_per_session between 1 and ${limits.tierMessagesPerSessionMax}
        and max_message_chars between 1 and ${limits.messageContentLength}
        and max_parts_bytes between 1 and ${limits.tierPartsBytesMax}
        and max_metadata_bytes between 64 and ${limits.tierMetadataBytesMax}
        and max_tool_calls_per_message between 0 and ${limits.tierToolCallsPerMessageMax}`),
    ),
    check('quota_tiers_soft_limit_range', sql`${t.softLimitPercent} between 1 and 100`),
    check(
      'quota_tiers_rate_limits_range',
      sql.raw(`requests_per_minute between 1 and ${limits.requestsPerMinuteMax}
        and tokens_per_minute between 1 and ${limits.tokensPerMinuteMax}`),
    ),
    check(
      'quota_tiers_allowed_models_valid',
      sql.raw(`cardinality(allowed_models) <= ${limits.allowedModelsMax}
        and coalesce(array_ndims(allowed_models), 1) = 1
        and array_position(allowed_models, null) is null
        and (cardinality(allowed_models) = 0
          or (cardinality(allowed_models) = cardinality(string_to_array(array_to_string(allowed_models, ' '), ' '))
            and array_to_string(allowed_models, ' ') ~ '^[a-z0-9*][^[:space:]]{0,${limits.modelPatternLength - 1}}( [a-z0-9*][^[:space:]]{0,${limits.modelPatternLength - 1}})*$'))`),
    ),
    // At most alertPercentsMax whole percentages 1-100, no nulls, one dimension (order and repeats do not matter).
    check(
      'quota_tiers_alert_percents_valid',
      sql.raw(`cardinality(alert_percents) <= ${limits.alertPercentsMax}
        and coalesce(array_ndims(alert_percents), 1) = 1
        and array_position(alert_percents, null) is null
        and 1 <= all(alert_percents) and 100 >= all(alert_percents)`),
    ),
  ],
).enableRLS();

export type QuotaTier = typeof quotaTiers.$inferSelect;
export type NewQuotaTier = typeof quotaTiers.$inferInsert;

/**
 * Each user's tier and effective limits. The plain limit columns are the
 * effective values (the override when set, else the tier's), kept by the
 * database so that readers, such as the seed's check-quota query, need no join.
 */
export const userQuotas = pgTable(
  'user_quotas',
  {
    userId: uuid()
      .primaryKey()
      .references(() => profiles.id, { onDelete: 'cascade' }),
    tierId: text()
      .notNull()
      .references(() => quotaTiers.id, { onDelete: 'restrict', onUpdate: 'cascade' }),
    monthlyTokenLimit: bigint({ mode: 'number' }).notNull(),
    monthlyCostLimitUsd: usdLimit().notNull(),
    dailyRequestLimit: integer().notNull(),
    softLimitPercent: smallint().notNull(),
    // Per-user overrides; null means "the tier's value".
    monthlyTokenLimitOverride: bigint({ mode: 'number' }),
    monthlyCostLimitUsdOverride: usdLimit(),
    dailyRequestLimitOverride: integer(),
    softLimitPercentOverride: smallint(),
    // Day of the month (UTC) on which the quota period starts; 1 is the calendar month.
    resetDay: smallint().notNull().default(1),
    ...timestamps,
  },
  (t) => [
    // Serves the foreign key to tiers (tier changes re-derive limits).
    index('user_quotas_tier_idx').on(t.tierId),
    // Bounded so that the quota arithmetic cannot overflow; the upper bound also refuses NaN.
    check(
      'user_quotas_limits_range',
      inRange([
        ['monthly_token_limit', limits.monthlyTokenLimit],
        ['monthly_cost_limit_usd', limits.monthlyCostLimitUsd],
        ['daily_request_limit', limits.dailyRequestLimit],
        ['monthly_token_limit_override', limits.monthlyTokenLimit],
        ['monthly_cost_limit_usd_override', limits.monthlyCostLimitUsd],
        ['daily_request_limit_override', limits.dailyRequestLimit],
      ]),
    ),
    check(
      'user_quotas_soft_limit_range',
      sql`${t.softLimitPercent} between 1 and 100 and ${t.softLimitPercentOverride} between 1 and 100`,
    ),
    check('user_quotas_reset_day_range', sql`${t.resetDay} between 1 and 28`),
  ],
).enableRLS();

export type UserQuota = typeof userQuotas.$inferSelect;
export type NewUserQuota = typeof userQuotas.$inferInsert;

/**
 * Quota held for a request in flight: reserved before the AI call, then
 * settled by the recorded usage or released. Only active, unexpired
 * reservations count against the quota.
 */
export const quotaReservations = pgTable(
  'quota_reservations',
  {
    // Time-ordered (UUID v7, migration 0011): reservations are made and
    // settled on every request, and ordered ids keep those index writes at
    // the right edge of the primary key however long the history.
    id: uuid()
      .primaryKey()
      .default(sql`private.uuid_v7()`),
    userId: uuid()
      .notNull()
      .references(() => profiles.id, { onDelete: 'cascade' }),
    idempotencyKey: text().notNull(),
    estimatedTokens: bigint({ mode: 'number' }).notNull(),
    estimatedCostUsd: usd().notNull().default('0'),
    status: reservationStatus().notNull().default('active'),
    createdAt: timestamptz().notNull().defaultNow(),
    expiresAt: timestamptz().notNull(),
    // When it was settled, released or expired.
    resolvedAt: timestamptz(),
    // The organisation whose budget it holds; null for personal quota.
    organisationId: uuid().references(() => organisations.id, { onDelete: 'cascade' }),
  },
  (t) => [
    // A retried reservation returns the first; also serves the foreign key.
    uniqueIndex('quota_reservations_user_key_key').on(t.userId, t.idempotencyKey),
    // The quota check sums a user's active reservations.
    index('quota_reservations_active_idx')
      .on(t.userId, t.expiresAt)
      .where(sql`${t.status} = 'active'`),
    // An organisation's budget check sums its active reservations.
    index('quota_reservations_organisation_active_idx')
      .on(t.organisationId, t.expiresAt)
      .where(sql`${t.status} = 'active' and ${t.organisationId} is not null`),
    // No CHECK constraints: reservations are written only by reserve_quota,
    // record_usage, release_quota and expire_quota_reservations (no API role
    // may write them, migration 0014), which keep the rules: a key of 1-200
    // characters, non-negative estimates, expiry after creation, resolved_at
    // set exactly when the reservation is no longer active. A settlement
    // rewrites the row on every request, and Postgres prepares CHECKs again
    // for each statement (about 9 µs here).
  ],
).enableRLS();

export type QuotaReservation = typeof quotaReservations.$inferSelect;
export type NewQuotaReservation = typeof quotaReservations.$inferInsert;

/**
 * How much more each user may use before a quota notification may be due:
 * the distance to the next alert threshold of each limit, split over 8
 * bucket rows (a request takes the one of its event id modulo 8, as the
 * daily totals do). record_usage and record_adjustment take their request
 * from their bucket's share, as their last write; one user's concurrent
 * requests thus seldom meet on a row. Only a request that does not fit in its
 * share (or of another day, or with no rows yet) takes the exact path,
 * private.quota_alert_check: it locks all 8 rows in bucket order, which waits
 * for every request that took a share, counts the period from the daily
 * totals, writes the notifications due and shares out the distance to the
 * next thresholds again, rounded down. The shares never add up to more than
 * that distance, so the request that reaches a threshold is always one that
 * takes the exact path, in its own transaction, and its count is exact.
 * Derived rows, written only by the accounting functions; deleting them (a
 * change of the user's limits or tier does) only makes the next request count.
 */
export const quotaAlertHeadroom = pgTable(
  'quota_alert_headroom',
  {
    userId: uuid()
      .notNull()
      .references(() => profiles.id, { onDelete: 'cascade' }),
    bucket: smallint().notNull(),
    // The requests a share is for: from the UTC day's midnight to the end of
    // that day or of the quota period, whichever comes first.
    dayStart: timestamptz().notNull(),
    validUntil: timestamptz().notNull(),
    // Shares of the distance to the next threshold: tokens, USD, requests of
    // the day ('Infinity' when every threshold of the limit is behind).
    tokensLeft: numeric().notNull(),
    costLeftUsd: numeric().notNull(),
    requestsLeft: numeric().notNull(),
  },
  (t) => [
    primaryKey({ name: 'quota_alert_headroom_pkey', columns: [t.userId, t.bucket] }),
    // No CHECK constraints: written only by record_usage, record_adjustment
    // and private.quota_alert_check, on every request.
  ],
).enableRLS();

export type QuotaAlertHeadroom = typeof quotaAlertHeadroom.$inferSelect;

/**
 * A tier's monthly token cap on a model or family of models: the tokens of
 * every model that matches `model_pattern` (`provider/model`, `*` for any
 * characters) count together. Checked by reserve_quota against the
 * subject's recorded use of the period (the user's, or the organisation's).
 */
export const tierModelLimits = pgTable(
  'tier_model_limits',
  {
    tierId: text()
      .notNull()
      .references(() => quotaTiers.id, { onDelete: 'cascade', onUpdate: 'cascade' }),
    modelPattern: text().notNull(),
    monthlyTokenLimit: bigint({ mode: 'number' }).notNull(),
    ...timestamps,
  },
  (t) => [
    primaryKey({ name: 'tier_model_limits_pkey', columns: [t.tierId, t.modelPattern] }),
    check('tier_model_limits_pattern_format', sql.raw(`model_pattern ~ '^[a-z0-9*][^[:space:]]*/[^[:space:]]+$' and char_length(model_pattern) <= ${limits.modelPatternLength}`)),
    check('tier_model_limits_limit_range', sql.raw(`monthly_token_limit between 0 and ${limits.monthlyTokenLimit}`)),
  ],
).enableRLS();

export type TierModelLimit = typeof tierModelLimits.$inferSelect;

/**
 * Per-minute rate-limit state of a user or an organisation (the subject's
 * id): the theoretical arrival time of the next request and of the next
 * token (GCRA). A subject is within its limit while that time is at most a
 * minute ahead of now: the burst is one minute's worth. Written only by
 * reserve_quota, under the subject's quota lock; a time in the past is the
 * same as no row. No foreign key: the subject is one of two tables.
 */
export const rateLimitState = pgTable('rate_limit_state', {
  subjectId: uuid().primaryKey(),
  requestsAt: timestamptz().notNull(),
  tokensAt: timestamptz().notNull(),
}).enableRLS();

export type RateLimitState = typeof rateLimitState.$inferSelect;

/**
 * A time-bound allowance on top of a user's or an organisation's monthly
 * limits: a promotion, support credit or trial extension, in tokens and/or
 * USD. While active (from starts_at until expires_at, unless voided) it adds
 * to the allowance of the quota period; use beyond the base limit draws on
 * the active grants, highest priority first, then the one expiring first.
 * Created and voided only by service_role; every change is audited.
 */
export const quotaGrants = pgTable(
  'quota_grants',
  {
    id: uuid()
      .primaryKey()
      .default(sql`private.uuid_v7()`),
    userId: uuid().references(() => profiles.id, { onDelete: 'cascade' }),
    organisationId: uuid().references(() => organisations.id, { onDelete: 'cascade' }),
    tokens: bigint({ mode: 'number' }),
    costUsd: numeric({ precision: 14, scale: 4 }),
    priority: smallint().notNull().default(0),
    reason: text().notNull(),
    startsAt: timestamptz().notNull().defaultNow(),
    expiresAt: timestamptz().notNull(),
    voidedAt: timestamptz(),
    createdAt: timestamptz().notNull().defaultNow(),
  },
  (t) => [
    index('quota_grants_user_idx').on(t.userId, t.expiresAt).where(sql`${t.userId} is not null`),
    index('quota_grants_organisation_idx').on(t.organisationId, t.expiresAt).where(sql`${t.organisationId} is not null`),
    check('quota_grants_one_subject', sql`num_nonnulls(${t.userId}, ${t.organisationId}) = 1`),
    check(
      'quota_grants_amounts',
      sql.raw(`num_nonnulls(tokens, cost_usd) >= 1
        and tokens between 0 and ${limits.monthlyTokenLimit}
        and cost_usd between 0 and ${limits.monthlyCostLimitUsd}`),
    ),
    check('quota_grants_priority_range', sql`${t.priority} between -1000 and 1000`),
    check('quota_grants_reason_length', sql.raw(`char_length(btrim(reason)) between 1 and ${limits.grantReasonLength}`)),
    check('quota_grants_window', sql`${t.expiresAt} > ${t.startsAt} and ${t.startsAt} > '-infinity' and ${t.expiresAt} < 'infinity'`),
  ],
).enableRLS();

export type QuotaGrant = typeof quotaGrants.$inferSelect;
