import { sql } from 'drizzle-orm';
import { queryRows, type DbOrTx } from '../db.js';
import { parseInput, withInputErrors } from '../errors.js';
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
}

/**
 * Quota status for the current period. As service_role: any user. As the
 * signed-in user (see asUser): their own; anybody else's gives null.
 */
export async function getQuotaStatus(db: DbOrTx, input: { userId: string }): Promise<QuotaStatus | null> {
  const v = parseInput(quotaStatusInput, input);
  const [r] = await withInputErrors(() =>
    queryRows<Record<string, any>>(db, sql`select * from public.get_quota_status(${v.userId}::uuid)`),
  );
  if (!r) return null;
  return {
    userId: r.user_id,
    tierId: r.tier_id,
    periodStart: new Date(r.period_start),
    periodEnd: new Date(r.period_end),
    monthlyTokenLimit: Number(r.monthly_token_limit),
    tokensUsed: Number(r.tokens_used),
    tokensReserved: Number(r.tokens_reserved),
    tokensRemaining: Number(r.tokens_remaining),
    tokensPercent: Number(r.tokens_percent),
    monthlyCostLimitUsd: String(r.monthly_cost_limit_usd),
    costUsedUsd: String(r.cost_used_usd),
    costReservedUsd: String(r.cost_reserved_usd),
    costRemainingUsd: String(r.cost_remaining_usd),
    costPercent: Number(r.cost_percent),
    dailyRequestLimit: Number(r.daily_request_limit),
    requestsToday: Number(r.requests_today),
    requestsReserved: Number(r.requests_reserved),
    requestsRemaining: Number(r.requests_remaining),
    softLimitPercent: Number(r.soft_limit_percent),
    softLimitReached: r.soft_limit_reached,
    hardLimitReached: r.hard_limit_reached,
  };
}

export type Reservation =
  | { granted: true; reservationId: string; expiresAt: Date; duplicate: boolean; tokensRemaining: number; costRemainingUsd: string; requestsRemaining: number }
  | {
      granted: false;
      /** The limit that refused it. */
      reason: 'monthly_token_limit' | 'monthly_cost_limit_usd' | 'daily_request_limit' | 'duplicate';
      tokensRemaining: number;
      costRemainingUsd: string;
      requestsRemaining: number;
    };

/**
 * Holds quota before an AI request. Refusal is an answer, not an error:
 * branch on `granted`. Concurrent reservations of one user never grant more
 * than the limit together. A retry with the same key returns the first.
 */
export async function reserveQuota(db: DbOrTx, input: ReserveQuotaInput): Promise<Reservation> {
  const v = parseInput(reserveQuotaInput, input);
  const [r] = await withInputErrors(() =>
    queryRows<Record<string, any>>(
      db,
      sql`select * from public.reserve_quota(${v.userId}::uuid, ${v.idempotencyKey}::text, ${v.estimatedTokens}::bigint,
        ${v.estimatedCostUsd}::numeric, make_interval(secs => ${v.ttlSeconds}::int))`,
    ),
  );
  if (!r) throw new Error('reserve_quota returned no row');
  const figures = {
    tokensRemaining: Number(r.tokens_remaining),
    costRemainingUsd: String(r.cost_remaining_usd),
    requestsRemaining: Number(r.requests_remaining),
  };
  if (r.granted) {
    return { granted: true, reservationId: r.reservation_id, expiresAt: new Date(r.expires_at), duplicate: r.reason === 'duplicate', ...figures };
  }
  return { granted: false, reason: r.reason, ...figures };
}

/** Gives a reservation back (the request failed). True when it was still active. */
export async function releaseQuota(db: DbOrTx, input: { userId: string; reservationId: string }): Promise<boolean> {
  const v = parseInput(releaseQuotaInput, input);
  const [r] = await withInputErrors(() =>
    queryRows<{ released: boolean }>(
      db,
      sql`select public.release_quota(${v.userId}::uuid, ${v.reservationId}::uuid) as released`,
    ),
  );
  return Boolean(r?.released);
}

/** Marks reservations past their time as expired; returns how many. */
export async function expireReservations(db: DbOrTx): Promise<number> {
  const [r] = await queryRows<{ n: number }>(db, sql`select public.expire_quota_reservations() as n`);
  return Number(r?.n ?? 0);
}
