import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  check,
  date,

  index,
  integer,
  pgTable,
  pgView,
  primaryKey,
  smallint,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { counter, timestamps, timestamptz, tokenCount, usd, usdPerMillionTokens, usdPerThousand, usdTotal } from './columns.js';
import { agentMode, costSource, serviceTier, usageKind, usageStatus } from './enums.js';
import { limits } from './limits.js';
import { profiles } from './profiles.js';

/**
 * AI providers as data: a new provider is a row, not a schema change. Local
 * providers (Ollama and the like) cost nothing, but their tokens still count.
 */
export const aiProviders = pgTable(
  'ai_providers',
  {
    id: text().primaryKey(),
    displayName: text().notNull(),
    isLocal: boolean().notNull().default(false),
    ...timestamps,
  },
  (t) => [
    check('ai_providers_id_format', sql`${t.id} ~ '^[a-z0-9][a-z0-9_.-]{0,63}$'`),
    check('ai_providers_display_name_length', sql`char_length(${t.displayName}) between 1 and 100`),
  ],
).enableRLS();

export type AiProvider = typeof aiProviders.$inferSelect;
export type NewAiProvider = typeof aiProviders.$inferInsert;

/**
 * Model prices, each in force from its `effective_from` until the next one
 * for the same model and service tier. A price change is a new row; rows
 * that events were charged at are never rewritten.
 *
 * Token rates are USD per million tokens of each kind of the token contract
 * (README, "The token contract"). A price can depend on:
 * - the service tier: a row per tier (`standard`, `batch`, `flex`,
 *   `priority`); a request of a tier with no row is unpriced, never charged
 *   at another tier's rate;
 * - the size of the prompt: a row with `min_context_tokens` above 0 prices
 *   the whole request (every kind) once its prompt (input, cache reads and
 *   cache writes) reaches that many tokens, as long-context rates are billed;
 *   the rows of one model, tier and `effective_from` make one schedule;
 * - the cache-write lifetime: `cache_write_per_mtok` for 5-minute writes,
 *   `cache_write_1h_per_mtok` for 1-hour writes;
 * - billable extras, in USD per thousand: web searches and other tool calls.
 *
 * A null rate means the provider has no such price here: a request that
 * used it is recorded unpriced rather than charged at a guess.
 */
export const modelPrices = pgTable(
  'model_prices',
  {
    id: bigint({ mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    provider: text()
      .notNull()
      .references(() => aiProviders.id, { onDelete: 'restrict', onUpdate: 'cascade' }),
    model: text().notNull(),
    effectiveFrom: timestamptz().notNull(),
    inputPerMtok: usdPerMillionTokens().notNull(),
    outputPerMtok: usdPerMillionTokens().notNull(),
    cachedInputPerMtok: usdPerMillionTokens().notNull(),
    cacheWritePerMtok: usdPerMillionTokens().notNull(),
    reasoningPerMtok: usdPerMillionTokens().notNull(),
    createdAt: timestamptz().notNull().defaultNow(),
    serviceTier: serviceTier().notNull().default('standard'),
    minContextTokens: bigint({ mode: 'number' }).notNull().default(0),
    cacheWrite1hPerMtok: usdPerMillionTokens('cache_write_1h_per_mtok'),
    webSearchPerK: usdPerThousand(),
    toolRequestPerK: usdPerThousand(),
    // Where the row came from: a catalog version, an importer, a person.
    source: text(),
  },
  (t) => [
    // The price in force: the latest schedule at or before the request, and
    // in it the row with the largest threshold the prompt reaches.
    uniqueIndex('model_prices_schedule_key').on(t.provider, t.model, t.serviceTier, t.effectiveFrom, t.minContextTokens),
    check('model_prices_model_length', sql`char_length(${t.model}) between 1 and ${sql.raw(String(limits.modelLength))}`),
    // Bounded above, which also refuses NaN ('NaN' is greater than every number in Postgres).
    check(
      'model_prices_range',
      sql.raw(['input_per_mtok', 'output_per_mtok', 'cached_input_per_mtok', 'cache_write_per_mtok', 'reasoning_per_mtok']
        .map((c) => `${c} between 0 and ${limits.pricePerMtokUsd}`)
        .join(' and ')),
    ),
    check('model_prices_cache_write_1h_range', sql`${t.cacheWrite1hPerMtok} between 0 and ${sql.raw(String(limits.pricePerMtokUsd))}`),
    check(
      'model_prices_extras_range',
      sql.raw(['web_search_per_k', 'tool_request_per_k']
        .map((c) => `${c} between 0 and ${limits.pricePerThousandUsd}`)
        .join(' and ')),
    ),
    check('model_prices_min_context_range', sql`${t.minContextTokens} between 0 and ${sql.raw(String(3 * limits.tokensPerRequest))}`),
    check('model_prices_source_length', sql`char_length(${t.source}) between 1 and ${sql.raw(String(limits.priceSourceLength))}`),
  ],
).enableRLS();

export type ModelPrice = typeof modelPrices.$inferSelect;
export type NewModelPrice = typeof modelPrices.$inferInsert;

/**
 * One row per AI request, and one per correction of an earlier request
 * (kind 'adjustment', signed deltas). Append-only: written only by the
 * `record_usage` and `record_adjustment` functions (no API role may insert,
 * update or delete, service_role included), which update the daily
 * aggregate, the session figures and any reservation in the same
 * transaction; removed only by retention and account deletion. A retry with
 * the same idempotency key returns the first event.
 *
 * Partitioned by month of occurred_at (src/sql/aiUsage/partitions.sql; the
 * partitions live in schema `partitions`, which no API role can reach):
 * run_maintenance() creates months ahead, a default partition catches strays
 * and is emptied by it, and retention drops whole months.
 */
export const aiUsageEvents = pgTable(
  'ai_usage_events',
  {
    // Unique with occurred_at (the primary key below): the log is partitioned
    // by month of occurred_at, and every unique index of a partitioned table
    // holds the partition key. Ids come from one identity sequence, so an id
    // names one event all the same.
    id: bigint({ mode: 'number' }).notNull().generatedAlwaysAsIdentity(),
    userId: uuid()
      .notNull()
      .references(() => profiles.id, { onDelete: 'cascade' }),
    // The session, message and reservation of the request: no foreign keys.
    // record_usage checks each belongs to the user in the statement that
    // writes the event (the session and the reservation are updated there),
    // and the log outlives them: deleting a session or purging old
    // reservations never rewrites an event.
    sessionId: uuid(),
    messageId: bigint({ mode: 'number' }),
    reservationId: uuid(),
    // Unique per user: ai_usage_event_keys holds the key (the log cannot,
    // see above) for the idempotency window.
    idempotencyKey: text().notNull(),
    provider: text().notNull(),
    model: text().notNull(),
    agentMode: agentMode().notNull(),
    kind: usageKind().notNull().default('request'),
    // The request an adjustment corrects (no foreign key: corrections outlive
    // the retention of the request, and retention never rewrites old rows).
    adjustsEventId: bigint({ mode: 'number' }),
    inputTokens: tokenCount(),
    outputTokens: tokenCount(),
    cachedInputTokens: tokenCount(),
    cacheWriteTokens: tokenCount(),
    reasoningTokens: tokenCount(),
    // The five kinds of the token contract never overlap: their sum is what
    // the provider bills. cache_write_1h_tokens (below) is part of
    // cache_write_tokens, not a sixth kind.
    totalTokens: bigint({ mode: 'number' })
      .notNull()
      .generatedAlwaysAs(
        sql`input_tokens + output_tokens + cached_input_tokens + cache_write_tokens + reasoning_tokens`,
      ),
    // Null only when the model has no price (cost_source = 'unpriced').
    costUsd: usd(),
    costSource: costSource().notNull(),
    // The price row the cost was computed from; price rows are never rewritten.
    priceId: bigint({ mode: 'number' }).references(() => modelPrices.id, { onDelete: 'restrict' }),
    latencyMs: integer(),
    status: usageStatus().notNull(),
    errorCode: text(),
    // When the request happened; decides the day, the price and the quota period.
    occurredAt: timestamptz().notNull().defaultNow(),
    createdAt: timestamptz().notNull().defaultNow(),
    // Of cache_write_tokens, those written with a 1-hour lifetime (the rest live 5 minutes).
    cacheWrite1hTokens: tokenCount('cache_write_1h_tokens'),
    // Billable extras that are not tokens, counted per request.
    webSearchRequests: counter(),
    toolRequests: counter(),
    // The provider's service tier the request ran on; it picks the price row.
    serviceTier: serviceTier().notNull().default('standard'),
    // Run on the user's own provider key: its cost is recorded but counts
    // against no cost budget (the daily totals keep it apart, byok_cost_usd).
    byok: boolean().notNull().default(false),
    // The organisation the request was made for: its usage counts against
    // the organisation's budget and the member's cap there, not the user's
    // personal quota. No foreign key, as for the price: the log outlives
    // what it names, and an insert on the hot path checks nothing it need not.
    organisationId: uuid(),
  },
  (t) => [
    primaryKey({ columns: [t.id, t.occurredAt] }),
    // A user's recent events; also serves the user foreign key.
    index('ai_usage_events_user_time_idx').on(t.userId, t.occurredAt.desc()),
    // A session's and a message's events (usually null: partial indexes stay
    // small). Reservations need none: nothing looks events up by reservation.
    index('ai_usage_events_session_idx').on(t.sessionId).where(sql`${t.sessionId} is not null`),
    index('ai_usage_events_message_idx').on(t.messageId).where(sql`${t.messageId} is not null`),
    index('ai_usage_events_price_idx').on(t.priceId).where(sql`${t.priceId} is not null`),
    // The corrections of a request (record_adjustment sums them).
    index('ai_usage_events_adjusts_idx').on(t.adjustsEventId).where(sql`${t.adjustsEventId} is not null`),
    // Time ranges within a month (purge_usage_events deletes the oldest in
    // batches; whole months go by dropping their partition). Events arrive in
    // time order, so a BRIN index serves for a fraction of a b-tree's upkeep.
    index('ai_usage_events_occurred_at_idx').using('brin', t.occurredAt),
    // No CHECK constraints: events are written only by record_usage and
    // record_adjustment (no API role may insert, update or delete them), which
    // check every rule the row must satisfy (key, model and error code
    // lengths, token counts, costs and latencies within bounds, never NaN, a
    // cost known unless unpriced) and build the row from what they checked.
    // A CHECK is read back and prepared again for every insert of the hot
    // path, and changing one would rescan the whole log.
  ],
).enableRLS();

/**
 * The idempotency keys of the event log: one row per user and key, naming
 * the event recorded under it. The log is partitioned by month, so no index
 * of its own can be unique per user and key across months; this small table
 * is, whatever occurred_at a retry carries. Written by record_usage and
 * record_adjustment in the statement that writes the event (a concurrent
 * retry waits on the key and then finds it; under REPEATABLE READ it fails
 * with a serialization error, as for any unique index). Keys are kept for the
 * idempotency window after they were recorded, then run_maintenance()
 * removes them; no API role reads or writes them.
 */
export const aiUsageEventKeys = pgTable(
  'ai_usage_event_keys',
  {
    // No foreign key (a check on every recorded request): the account's
    // deletion removes its keys with its events (handle_auth_user_deleted).
    userId: uuid().notNull(),
    idempotencyKey: text().notNull(),
    // The event's primary key.
    eventId: bigint({ mode: 'number' }).notNull(),
    occurredAt: timestamptz().notNull(),
    createdAt: timestamptz().notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.userId, t.idempotencyKey] }),
    // Keys leave in the order they came: a BRIN index finds the old ones.
    index('ai_usage_event_keys_created_at_idx').using('brin', t.createdAt),
  ],
).enableRLS();

export type UsageEvent = typeof aiUsageEvents.$inferSelect;
export type NewUsageEvent = typeof aiUsageEvents.$inferInsert;

/**
 * Daily totals per user, provider, model and agent mode, updated in the same
 * transaction as each event, so they stay exact. A user's writes are spread
 * over a few `bucket` rows so that concurrent requests of one user do not
 * queue on one row; readers sum over buckets (the seed's queries already do).
 * Survives the retention of raw events.
 */
export const aiUsageDaily = pgTable(
  'ai_usage_daily',
  {
    userId: uuid()
      .notNull()
      .references(() => profiles.id, { onDelete: 'cascade' }),
    // The UTC day of the requests, as its midnight in UTC. A timestamptz rather
    // than a date so that the seed's `date >= date_trunc('month', CURRENT_DATE)`
    // compares like with like: that comparison is leakproof, so under RLS it
    // still bounds the index scan (date >= timestamptz is not, and would read
    // every day the user ever had).
    date: timestamptz().notNull(),
    provider: text().notNull(),
    model: text().notNull(),
    agentMode: agentMode().notNull(),
    bucket: smallint().notNull().default(0),
    requestCount: counter(),
    successCount: counter(),
    errorCount: counter(),
    cancelledCount: counter(),
    // Requests recorded without a known cost.
    unpricedCount: counter(),
    inputTokens: tokenCount(),
    outputTokens: tokenCount(),
    cachedInputTokens: tokenCount(),
    cacheWriteTokens: tokenCount(),
    reasoningTokens: tokenCount(),
    totalTokens: tokenCount(),
    costUsd: usdTotal().notNull().default('0'),
    latencyMsSum: bigint({ mode: 'number' }).notNull().default(0),
    latencyCount: counter(),
    updatedAt: timestamptz().notNull().defaultNow(),
    cacheWrite1hTokens: tokenCount('cache_write_1h_tokens'),
    webSearchRequests: bigint({ mode: 'number' }).notNull().default(0),
    toolRequests: bigint({ mode: 'number' }).notNull().default(0),
    // The part of cost_usd paid on the user's own provider keys: quotas count cost_usd - byok_cost_usd.
    byokCostUsd: usdTotal().notNull().default('0'),
  },
  (t) => [
    // One row per key; its prefix (user_id, date) serves the monthly queries and the foreign key.
    primaryKey({
      name: 'ai_usage_daily_pkey',
      columns: [t.userId, t.date, t.provider, t.model, t.agentMode, t.bucket],
    }),
    // No CHECK constraints: daily totals are derived rows, written only by
    // record_usage (no API role may write them, migration 0014), which builds
    // them from validated input: a UTC-midnight day, bucket 0-7, non-negative
    // figures, total_tokens and request_count the sums of their parts. CHECKs
    // would cost every request: Postgres prepares them again per statement.
  ],
).enableRLS();

export type UsageDaily = typeof aiUsageDaily.$inferSelect;

/** Monthly figures, derived from the daily rows (RLS of the caller applies). */
export const aiUsageMonthly = pgView('ai_usage_monthly', {
  userId: uuid().notNull(),
  month: date({ mode: 'string' }).notNull(),
  provider: text().notNull(),
  model: text().notNull(),
  agentMode: agentMode().notNull(),
  requestCount: bigint({ mode: 'number' }).notNull(),
  successCount: bigint({ mode: 'number' }).notNull(),
  errorCount: bigint({ mode: 'number' }).notNull(),
  cancelledCount: bigint({ mode: 'number' }).notNull(),
  unpricedCount: bigint({ mode: 'number' }).notNull(),
  inputTokens: bigint({ mode: 'number' }).notNull(),
  outputTokens: bigint({ mode: 'number' }).notNull(),
  cachedInputTokens: bigint({ mode: 'number' }).notNull(),
  cacheWriteTokens: bigint({ mode: 'number' }).notNull(),
  reasoningTokens: bigint({ mode: 'number' }).notNull(),
  totalTokens: bigint({ mode: 'number' }).notNull(),
  costUsd: usdTotal().notNull(),
  cacheWrite1hTokens: bigint('cache_write_1h_tokens', { mode: 'number' }).notNull(),
  webSearchRequests: bigint({ mode: 'number' }).notNull(),
  toolRequests: bigint({ mode: 'number' }).notNull(),
  byokCostUsd: usdTotal().notNull(),
})
  .with({ securityInvoker: true })
  .as(sql`select user_id,
      (date_trunc('month', date, 'UTC') at time zone 'UTC')::date as month,
      provider, model, agent_mode,
      sum(request_count)::bigint as request_count,
      sum(success_count)::bigint as success_count,
      sum(error_count)::bigint as error_count,
      sum(cancelled_count)::bigint as cancelled_count,
      sum(unpriced_count)::bigint as unpriced_count,
      sum(input_tokens)::bigint as input_tokens,
      sum(output_tokens)::bigint as output_tokens,
      sum(cached_input_tokens)::bigint as cached_input_tokens,
      sum(cache_write_tokens)::bigint as cache_write_tokens,
      sum(reasoning_tokens)::bigint as reasoning_tokens,
      sum(total_tokens)::bigint as total_tokens,
      sum(cost_usd)::numeric as cost_usd,
      sum(cache_write_1h_tokens)::bigint as cache_write_1h_tokens,
      sum(web_search_requests)::bigint as web_search_requests,
      sum(tool_requests)::bigint as tool_requests,
      sum(byok_cost_usd)::numeric as byok_cost_usd
    from public.ai_usage_daily
    group by user_id, date_trunc('month', date, 'UTC'), provider, model, agent_mode`);
