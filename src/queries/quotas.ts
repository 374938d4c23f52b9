import type { DbOrTx } from '../db.js';
import { parseInput, withInputErrors } from '../errors.js';
import { normalizeModel } from '../pricing/models.js';
import { callFunction } from '../rpc.js';
import { quotaStatusInput, releaseQuotaInput, reserveQuotaInput, type ReserveQuotaInput } from '../validation/quotas.js';

export interface QuotaStatus {
  userId: string;
  tierId: string;
  periodStart: Date;
  periodEnd: Date;
  monthlyTokenLimit: number;
  tokensUsed: number;
  tokensReserved: number;
  tokensRemaining: number;
  tokensPercent: number;
  monthlyCostLimitUsd: string;
  costUsedUsd: string;
  costReservedUsd: string;
  costRemainingUsd: string;
  costPercent: number;
  dailyRequestLimit: number;
  requestsToday: number;
  requestsReserved: number;
  requestsRemaining: number;
  softLimitPercent: number;
  /** Use plus holds reached the warning threshold of some limit. */
  softLimitReached: boolean;
  /** Some limit is used up: further reservations are refused. */
  hardLimitReached: boolean;
  /** What the user's active grants add to the monthly limits (remaining, percentages and flags count them). */
  grantTokens: number;
  grantCostUsd: string;
}

/**
 * Quota status for the current period. As service_role: any user. As the
 * signed-in user (see asUser): their own; anybody else's gives null.
 */
export async function getQuotaStatus(db: DbOrTx, input: { userId: string }): Promise<QuotaStatus | null> {
  const v = parseInput(quotaStatusInput, input);
  const [r] = await withInputErrors(() => callFunction(db, 'get_quota_status', { p_user_id: v.userId }));
  if (!r) return null;
  return {
    userId: r.user_id,
    tierId: r.tier_id,
    periodStart: r.period_start,
    periodEnd: r.period_end,
    monthlyTokenLimit: r.monthly_token_limit,
    tokensUsed: r.tokens_used,
    tokensReserved: r.tokens_reserved,
    tokensRemaining: r.tokens_remaining,
    tokensPercent: Number(r.tokens_percent),
    monthlyCostLimitUsd: r.monthly_cost_limit_usd,
    costUsedUsd: r.cost_used_usd,
    costReservedUsd: r.cost_reserved_usd,
    costRemainingUsd: r.cost_remaining_usd,
    costPercent: Number(r.cost_percent),
    dailyRequestLimit: r.daily_request_limit,
    requestsToday: r.requests_today,
    requestsReserved: r.requests_reserved,
    requestsRemaining: r.requests_remaining,
    softLimitPercent: r.soft_limit_percent,
    softLimitReached: r.soft_limit_reached,
    hardLimitReached: r.hard_limit_reached,
    grantTokens: r.grant_tokens,
    grantCostUsd: r.grant_cost_usd,
  };
}

/** Why reserve_quota refused: the limit that did, or a spent key. */
export type RefusalReason =
  | 'monthly_token_limit'
  | 'monthly_cost_limit_usd'
  | 'daily_request_limit'
  | 'organisation_token_limit'
  | 'organisation_cost_limit_usd'
  | 'organisation_daily_request_limit'
  | 'member_token_cap'
  | 'member_cost_cap_usd'
  | 'model_not_allowed'
  | 'model_token_limit'
  | 'requests_per_minute'
  | 'tokens_per_minute'
  | 'organisation_requests_per_minute'
  | 'organisation_tokens_per_minute'
  | 'key_already_used';

export type Reservation =
  | { granted: true; reservationId: string; expiresAt: Date; duplicate: boolean; tokensRemaining: number; costRemainingUsd: string; requestsRemaining: number }
  | {
      granted: false;
      /**
       * The limit that refused it, or `key_already_used`: the idempotency key's
       * reservation was already settled, released or expired, and a key never
       * buys a second request (`reservationId` names that reservation).
       */
      reason: RefusalReason;
      reservationId?: string;
      /** For a per-minute limit: when a retry may be granted, in milliseconds (absent when it never fits). */
      retryAfterMs?: number;
      tokensRemaining: number;
      costRemainingUsd: string;
      requestsRemaining: number;
    };

/**
 * Holds quota before an AI request: against the user's personal quota, or
 * with `organisationId` against the organisation's budget and the member's
 * cap there; with `provider` and `model` the tier's model rules apply; the
 * per-minute limits of the user's tier and the organisation always do.
 * Refusal is an answer, not an error:
 * branch on `granted`. Concurrent reservations of one user never grant more
 * than the limit together. A retry with the same key returns the first while
 * it holds; once it was settled, released or expired the key is refused
 * (`key_already_used`). Run it at READ COMMITTED (the default; asService and
 * PostgREST do): a REPEATABLE READ or SERIALIZABLE transaction is refused
 * with an error, since its snapshot would predate the quota lock.
 */
export async function reserveQuota(db: DbOrTx, input: ReserveQuotaInput): Promise<Reservation> {
  const v = parseInput(reserveQuotaInput, input);
  const [r] = await withInputErrors(() =>
    callFunction(db, 'reserve_quota', {
      p_user_id: v.userId,
      p_idempotency_key: v.idempotencyKey,
      p_estimated_tokens: v.estimatedTokens,
      p_estimated_cost_usd: v.estimatedCostUsd,
      p_ttl: `${v.ttlSeconds} seconds`,
      p_organisation_id: v.organisationId,
      p_provider: v.provider,
      // The model as prices, totals and the tier's patterns know it (record_usage's rule).
      p_model: v.provider !== undefined && v.model !== undefined ? normalizeModel(v.provider, v.model) : undefined,
    }),
  );
  if (!r) throw new Error('reserve_quota returned no row');
  const figures = {
    tokensRemaining: r.tokens_remaining,
    costRemainingUsd: r.cost_remaining_usd,
    requestsRemaining: r.requests_remaining,
  };
  if (r.granted) {
    if (r.reservation_id === null || r.expires_at === null) throw new Error('reserve_quota granted without a reservation');
    return { granted: true, reservationId: r.reservation_id, expiresAt: r.expires_at, duplicate: r.reason === 'duplicate', ...figures };
  }
  // The SQL function refuses with one of these reasons (text in its result).
  const reason = r.reason as Extract<Reservation, { granted: false }>['reason'];
  if (reason === 'key_already_used' && r.reservation_id !== null) {
    return { granted: false, reason, reservationId: r.reservation_id, ...figures };
  }
  if (r.retry_after_ms !== null) return { granted: false, reason, retryAfterMs: r.retry_after_ms, ...figures };
  return { granted: false, reason, ...figures };
}

/** Gives a reservation back (the request failed). True when it was still active. */
export async function releaseQuota(db: DbOrTx, input: { userId: string; reservationId: string }): Promise<boolean> {
  const v = parseInput(releaseQuotaInput, input);
  return withInputErrors(() => callFunction(db, 'release_quota', { p_user_id: v.userId, p_reservation_id: v.reservationId }));
}

/** Marks reservations past their time as expired; returns how many. */
export async function expireReservations(db: DbOrTx): Promise<number> {
  return callFunction(db, 'expire_quota_reservations');
}
