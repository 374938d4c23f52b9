import type { DbOrTx } from '../db.js';
import { parseInput, withInputErrors } from '../errors.js';
import { callFunction } from '../rpc.js';
import { purgeInBatches } from './batches.js';
import type { AgentMode, CostSource } from '../schema/enums.js';
import {
  monthlyUsageInput,
  purgeUsageInput,
  recordAdjustmentInput,
  recordUsageInput,
  type RecordAdjustmentInput,
  type RecordUsageInput,
} from '../validation/usage.js';

export interface RecordedUsage {
  eventId: number;
  /** True when this was a retry of an already recorded request: nothing was counted again. */
  duplicate: boolean;
  /** Exact cost in USD as a decimal string; null when the model has no price. */
  costUsd: string | null;
  costSource: CostSource;
  totalTokens: number;
}

/**
 * Records one AI request: the event, its daily total, the session figures
 * and the reservation it settles, in one round trip (`record_usage`).
 * Run it as service_role (the backend); users cannot record usage.
 */
export async function recordUsage(db: DbOrTx, input: RecordUsageInput): Promise<RecordedUsage> {
  const v = parseInput(recordUsageInput, input);
  const [row] = await withInputErrors(() =>
    callFunction(db, 'record_usage', {
      p_user_id: v.userId,
      p_idempotency_key: v.idempotencyKey,
      p_provider: v.provider,
      p_model: v.model,
      p_agent_mode: v.agentMode,
      p_input_tokens: v.inputTokens,
      p_output_tokens: v.outputTokens,
      p_cached_input_tokens: v.cachedInputTokens,
      p_cache_write_tokens: v.cacheWriteTokens,
      p_reasoning_tokens: v.reasoningTokens,
      p_status: v.status,
      // Left out when not given (undefined, or null where the input allows
      // it): the function's defaults, all null, apply.
      p_cost_usd: v.costUsd,
      p_latency_ms: v.latencyMs ?? undefined,
      p_session_id: v.sessionId,
      p_message_id: v.messageId,
      p_reservation_id: v.reservationId,
      p_error_code: v.errorCode ?? undefined,
      p_occurred_at: v.occurredAt,
      p_cache_write_1h_tokens: v.cacheWrite1hTokens,
      p_web_search_requests: v.webSearchRequests,
      p_tool_requests: v.toolRequests,
      p_service_tier: v.serviceTier,
      p_byok: v.byok,
      p_organisation_id: v.organisationId,
    }),
  );
  if (!row) throw new Error('record_usage returned no row');
  return {
    eventId: row.event_id,
    duplicate: row.duplicate,
    costUsd: row.cost_usd,
    costSource: row.cost_source,
    totalTokens: row.total_tokens,
  };
}

export interface RecordedAdjustment {
  eventId: number;
  /** True when this was a retry of an already recorded correction: nothing changed again. */
  duplicate: boolean;
  /** The correction's own token total (signed). */
  totalTokens: number;
  /** The correction's cost delta in USD, an exact decimal string (signed). */
  costUsd: string;
}

/**
 * Corrects a recorded request: the raw log is append-only, so the correction
 * is an event of its own with signed deltas, written through the same daily
 * total and session as the request, and to the audit log with its reason.
 * No figure of the request may end up negative. Backend (service_role) only,
 * at READ COMMITTED.
 */
export async function recordAdjustment(db: DbOrTx, input: RecordAdjustmentInput): Promise<RecordedAdjustment> {
  const v = parseInput(recordAdjustmentInput, input);
  const [row] = await withInputErrors(() =>
    callFunction(db, 'record_adjustment', {
      p_event_id: v.eventId,
      p_idempotency_key: v.idempotencyKey,
      p_reason: v.reason,
      p_input_tokens: v.inputTokens,
      p_output_tokens: v.outputTokens,
      p_cached_input_tokens: v.cachedInputTokens,
      p_cache_write_tokens: v.cacheWriteTokens,
      p_reasoning_tokens: v.reasoningTokens,
      p_cost_usd: v.costUsd,
      p_cache_write_1h_tokens: v.cacheWrite1hTokens,
      p_web_search_requests: v.webSearchRequests,
      p_tool_requests: v.toolRequests,
    }),
  );
  if (!row) throw new Error('record_adjustment returned no row');
  return { eventId: row.event_id, duplicate: row.duplicate, totalTokens: row.total_tokens, costUsd: row.cost_usd };
}

export interface MonthlyUsageRow {
  provider: string;
  model: string;
  agentMode: AgentMode;
  requestCount: number;
  successCount: number;
  errorCount: number;
  cancelledCount: number;
  unpricedCount: number;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  cacheWriteTokens: number;
  reasoningTokens: number;
  totalTokens: number;
  costUsd: string;
  /** Of cacheWriteTokens, the 1-hour writes. */
  cacheWrite1hTokens: number;
  webSearchRequests: number;
  toolRequests: number;
  /** The part of costUsd paid on the user's own provider keys (counted against no budget). */
  byokCostUsd: string;
}

/** A user's usage in one calendar month (UTC), per provider, model and agent mode, from the daily totals. */
export async function getMonthlyUsage(db: DbOrTx, input: { userId: string; month?: string }): Promise<MonthlyUsageRow[]> {
  const v = parseInput(monthlyUsageInput, input);
  const rows = await withInputErrors(() => callFunction(db, 'get_monthly_usage', { p_user_id: v.userId, p_month: v.month }));
  return rows.map((r) => ({
    provider: r.provider,
    model: r.model,
    agentMode: r.agent_mode,
    requestCount: r.request_count,
    successCount: r.success_count,
    errorCount: r.error_count,
    cancelledCount: r.cancelled_count,
    unpricedCount: r.unpriced_count,
    inputTokens: r.input_tokens,
    outputTokens: r.output_tokens,
    cachedInputTokens: r.cached_input_tokens,
    cacheWriteTokens: r.cache_write_tokens,
    reasoningTokens: r.reasoning_tokens,
    totalTokens: r.total_tokens,
    costUsd: r.cost_usd,
    cacheWrite1hTokens: r.cache_write_1h_tokens,
    webSearchRequests: r.web_search_requests,
    toolRequests: r.tool_requests,
    byokCostUsd: r.byok_cost_usd,
  }));
}

/**
 * Retention: deletes raw events older than the given age, batch by batch
 * (each call of `purge_usage_events` is its own transaction when `db` is not
 * a transaction). Daily totals stay as they are. Returns how many were deleted.
 */
export async function purgeUsageEvents(db: DbOrTx, input: { olderThanDays: number; batchSize?: number }): Promise<number> {
  const v = parseInput(purgeUsageInput, input);
  return purgeInBatches(v.batchSize, () =>
    callFunction(db, 'purge_usage_events', { p_older_than: `${v.olderThanDays} days`, p_batch_size: v.batchSize }),
  );
}
