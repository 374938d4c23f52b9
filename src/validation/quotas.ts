import { z } from 'zod';
import { idempotencyKey, maxTokensPerRequest, usdAmount } from './usage.js';

export const reserveQuotaInput = z
  .object({
    userId: z.uuid('must be a uuid'),
    idempotencyKey,
    estimatedTokens: z.number().int('must be a whole number').min(0, 'must not be negative').max(maxTokensPerRequest),
    estimatedCostUsd: usdAmount.default('0'),
    /** How long the reservation holds, in seconds (1 s to 1 day). */
    ttlSeconds: z.number().int().min(1, 'must be at least 1 second').max(86_400, 'must be at most 1 day').default(300),
  })
  .strict();
export type ReserveQuotaInput = z.input<typeof reserveQuotaInput>;

export const releaseQuotaInput = z
  .object({ userId: z.uuid('must be a uuid'), reservationId: z.uuid('must be a uuid') })
  .strict();

export const quotaStatusInput = z.object({ userId: z.uuid('must be a uuid') }).strict();
