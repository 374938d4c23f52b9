import { sql } from 'drizzle-orm';
import { queryRows, type DbOrTx } from '../db.js';
import { parseInput, withInputErrors } from '../errors.js';
import type { AgentMode, CostSource } from '../schema/enums.js';
import { monthlyUsageInput, purgeUsageInput, recordUsageInput, type RecordUsageInput } from '../validation/usage.js';

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
    queryRows<{ event_id: string; duplicate: boolean; cost_usd: string | null; cost_source: CostSource; total_tokens: string }>(
      db,
      sql`select * from public.record_usage(
        p_user_id => ${v.userId}::uuid,
        p_idempotency_key => ${v.idempotencyKey}::text,
        p_provider => ${v.provider}::text,
        p_model => ${v.model}::text,
        p_agent_mode => ${v.agentMode}::public.agent_mode,
        p_input_tokens => ${v.inputTokens}::bigint,
        p_output_tokens => ${v.outputTokens}::bigint,
        p_cached_input_tokens => ${v.cachedInputTokens}::bigint,
        p_cache_write_tokens => ${v.cacheWriteTokens}::bigint,
        p_reasoning_tokens => ${v.reasoningTokens}::bigint,
        p_status => ${v.status}::public.usage_status,
        p_cost_usd => ${v.costUsd ?? null}::numeric,
        p_latency_ms => ${v.latencyMs ?? null}::integer,
        p_session_id => ${v.sessionId ?? null}::uuid,
        p_message_id => ${v.messageId ?? null}::bigint,
        p_reservation_id => ${v.reservationId ?? null}::uuid,
        p_error_code => ${v.errorCode ?? null}::text,
        p_occurred_at => ${v.occurredAt?.toISOString() ?? null}::timestamptz)`,
    ),
  );
  if (!row) throw new Error('record_usage returned no row');
  return {
    eventId: Number(row.event_id),
    duplicate: row.duplicate,
    costUsd: row.cost_usd === null ? null : String(row.cost_usd),
    costSource: row.cost_source,
    totalTokens: Number(row.total_tokens),
  };
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
}

/** A user's usage in one calendar month (UTC), per provider, model and agent mode, from the daily totals. */
export async function getMonthlyUsage(db: DbOrTx, input: { userId: string; month?: string }): Promise<MonthlyUsageRow[]> {
  const v = parseInput(monthlyUsageInput, input);
  const rows = await withInputErrors(() =>
    queryRows<Record<string, string>>(
      db,
      sql`select * from public.get_monthly_usage(${v.userId}::uuid, ${v.month ?? null}::date)`,
    ),
  );
  return rows.map((r) => ({
    provider: r.provider!,
    model: r.model!,
    agentMode: r.agent_mode as AgentMode,
    requestCount: Number(r.request_count),
    successCount: Number(r.success_count),
    errorCount: Number(r.error_count),
    cancelledCount: Number(r.cancelled_count),
    unpricedCount: Number(r.unpriced_count),
    inputTokens: Number(r.input_tokens),
    outputTokens: Number(r.output_tokens),
    cachedInputTokens: Number(r.cached_input_tokens),
    cacheWriteTokens: Number(r.cache_write_tokens),
    reasoningTokens: Number(r.reasoning_tokens),
    totalTokens: Number(r.total_tokens),
    costUsd: String(r.cost_usd),
  }));
}

/**
 * Retention: deletes raw events older than the given age, batch by batch
 * (each call of `purge_usage_events` is its own transaction when `db` is not
 * a transaction). Daily totals stay as they are. Returns how many were deleted.
 */
export async function purgeUsageEvents(db: DbOrTx, input: { olderThanDays: number; batchSize?: number }): Promise<number> {
  const v = parseInput(purgeUsageInput, input);
  let total = 0;
  for (;;) {
    const [row] = await withInputErrors(() =>
      queryRows<{ deleted: number }>(
        db,
        sql`select public.purge_usage_events(make_interval(days => ${v.olderThanDays}::int), ${v.batchSize}::int) as deleted`,
      ),
    );
    const deleted = Number(row?.deleted ?? 0);
    total += deleted;
    if (deleted < v.batchSize) return total;
  }
}
