import { createInsertSchema } from 'drizzle-zod';
import { z } from 'zod';
import { aiUsageEvents } from '../schema/aiUsage.js';
import { agentModes, usageStatuses } from '../schema/enums.js';
import { limits, messages } from '../schema/limits.js';

// Input rules for recording usage, from the events table's own columns
// (drizzle-zod) tightened to what the database enforces.

/** Largest token count of one kind in one request. */
export const maxTokensPerRequest = limits.tokensPerRequest;

const tokens = z
  .number()
  .int('must be a whole number')
  .min(0, messages.tokens)
  .max(maxTokensPerRequest, messages.tokens);

/** Exact money: a decimal string (never a float), up to 10 decimals. */
export const usdAmount = z
  .string()
  .regex(/^\d{1,10}(\.\d{1,10})?$/, 'must be a non-negative decimal string with at most 10 decimals');

export const idempotencyKey = z
  .string()
  .min(1, messages.idempotencyKey)
  .max(limits.idempotencyKeyLength, messages.idempotencyKey);

export const recordUsageInput = createInsertSchema(aiUsageEvents, {
  userId: z.uuid('must be a uuid'),
  idempotencyKey: () => idempotencyKey,
  provider: () =>
    z.string().regex(new RegExp(`^[a-z0-9][a-z0-9_.-]{0,${limits.providerIdLength - 1}}$`), messages.providerId),
  model: () => z.string().min(1, messages.model).max(limits.modelLength, messages.model),
  latencyMs: () => z.number().int('must be a whole number').min(0, messages.notNegative).optional(),
  errorCode: () => z.string().max(limits.errorCodeLength, messages.errorCode).optional(),
})
  .pick({ userId: true, idempotencyKey: true, provider: true, model: true, latencyMs: true, errorCode: true })
  .extend({
    agentMode: z.enum(agentModes, 'must be one of understand, debug, implement'),
    status: z.enum(usageStatuses, 'must be one of success, error, cancelled').default('success'),
    inputTokens: tokens.default(0),
    outputTokens: tokens.default(0),
    cachedInputTokens: tokens.default(0),
    cacheWriteTokens: tokens.default(0),
    reasoningTokens: tokens.default(0),
    /** Given cost; without it the price table decides. */
    costUsd: usdAmount.optional(),
    sessionId: z.uuid('must be a uuid').optional(),
    messageId: z.number().int().positive('must be a message id').optional(),
    reservationId: z.uuid('must be a uuid').optional(),
    occurredAt: z.date('must be a Date').optional(),
  })
  .strict();

export type RecordUsageInput = z.input<typeof recordUsageInput>;

export const monthlyUsageInput = z
  .object({
    userId: z.uuid('must be a uuid'),
    /** Any day of the month wanted, 'YYYY-MM-DD'; the current month (UTC) by default. */
    month: z.iso.date('must be a date YYYY-MM-DD').optional(),
  })
  .strict();

export const purgeUsageInput = z
  .object({
    olderThanDays: z.number().int().min(1, 'must be at least 1 day').max(36500),
    batchSize: z.number().int().min(1, messages.purgeBatch).max(limits.purgeBatchMax, messages.purgeBatch).default(10_000),
  })
  .strict();
