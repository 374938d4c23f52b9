import { z } from 'zod';
import { limits, messages } from '../schema/limits.js';
import { idempotencyKey, usdAmount } from './usage.js';

export const reserveQuotaInput = z
  .object({
    userId: z.uuid('must be a uuid'),
    idempotencyKey,
    estimatedTokens: z.number().int('must be a whole number').min(0, messages.tokens).max(limits.tokensPerRequest, messages.tokens),
    estimatedCostUsd: usdAmount.default('0'),
    /** How long the reservation holds, in seconds (1 s to 1 day). */
    ttlSeconds: z
      .number()
      .int()
      .min(limits.reservationTtlMinSeconds, messages.reservationTtl)
      .max(limits.reservationTtlMaxSeconds, messages.reservationTtl)
      .default(300),
    /** Hold it against this organisation's budget and the member's cap (the user must be a member). */
    organisationId: z.uuid('must be a uuid').optional(),
    /** The provider and model of the request: the tier's model rules apply when given (both or neither). */
    provider: z.string().min(1, messages.providerId).max(limits.providerIdLength, messages.providerId).optional(),
    model: z.string().trim().min(1, messages.model).max(limits.modelLength, messages.model).optional(),
  })
  .strict()
  .refine((v) => (v.provider === undefined) === (v.model === undefined), {
    path: ['model'],
    message: 'provider and model go together: give both or neither',
  });
export type ReserveQuotaInput = z.input<typeof reserveQuotaInput>;

export const releaseQuotaInput = z
  .object({ userId: z.uuid('must be a uuid'), reservationId: z.uuid('must be a uuid') })
  .strict();

export const quotaStatusInput = z.object({ userId: z.uuid('must be a uuid') }).strict();
