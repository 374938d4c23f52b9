import { createInsertSchema } from 'drizzle-zod';
import { z } from 'zod';
import { aiUsageEvents } from '../schema/aiUsage.js';
import { agentModes, serviceTiers, usageStatuses } from '../schema/enums.js';
import { limits, messages } from '../schema/limits.js';
import { normalizeModel } from '../pricing/models.js';

// Input rules for recording usage, from the events table's own columns
// (drizzle-zod) tightened to what the database enforces.

/** Largest token count of one kind in one request. */
export const maxTokensPerRequest = limits.tokensPerRequest;

const tokens = z
  .number()
  .int('must be a whole number')
  .min(0, messages.tokens)
  .max(maxTokensPerRequest, messages.tokens);

/** Whether the decimal string `value` (digits, optional fraction) is at most the whole number `max`, exactly. */
export function decimalAtMost(value: string, max: number): boolean {
  if (!/^-?\d+(\.\d+)?$/.test(value)) return false;
  const [whole = '', fraction = ''] = value.replace(/^-/, '').split('.');
  const integer = BigInt(whole);
  return integer < BigInt(max) || (integer === BigInt(max) && !/[1-9]/.test(fraction));
}

/**
 * Exact money: a decimal string (never a float) with at most 10 decimals, from
 * 0 to what one request may cost. NaN, Infinity and exponents are not decimals.
 */
export const usdAmount = z
  .string()
  .regex(/^\d{1,15}(\.\d{1,10})?$/, messages.cost)
  .refine((v) => decimalAtMost(v, limits.costPerRequestUsd), messages.cost);

/** A signed change of money, for corrections: the same bounds either way. */
export const usdDelta = z
  .string()
  .regex(/^-?\d{1,15}(\.\d{1,10})?$/, messages.costDelta)
  .refine((v) => decimalAtMost(v, limits.costPerRequestUsd), messages.costDelta);

const extras = z.number().int('must be a whole number').min(0, messages.extras).max(limits.extrasPerRequest, messages.extras);

const latencyMs = z.number().int('must be a whole number').min(0, messages.latency).max(limits.latencyMs, messages.latency);

/**
 * When the request happened: a real date, not in the future beyond clock skew
 * and not older than the idempotency window. The database applies its own,
 * usually shorter, backdating limit (witchcraft.usage_backdating_days).
 */
const occurredAt = z
  .date('must be a Date')
  .refine((d) => !Number.isNaN(d.getTime()), 'must be a valid date')
  .refine((d) => d.getTime() <= Date.now() + limits.clockSkewSeconds * 1000, messages.occurredAtFuture)
  .refine(
    (d) => d.getTime() >= Date.now() - limits.idempotencyWindowDays * 86_400_000,
    `must not be more than ${limits.idempotencyWindowDays} days in the past`,
  );

/** A provider id, as ai_providers spells it ("openai"). */
export const providerId = z
  .string()
  .regex(new RegExp(`^[a-z0-9][a-z0-9_.-]{0,${limits.providerIdLength - 1}}$`), messages.providerId);

/** A model name as a caller gives it (normalised afterwards). */
export const modelName = z.string().min(1, messages.model).max(limits.modelLength, messages.model);

export const idempotencyKey = z
  .string()
  .min(1, messages.idempotencyKey)
  .max(limits.idempotencyKeyLength, messages.idempotencyKey);

export const recordUsageInput = createInsertSchema(aiUsageEvents, {
  userId: z.uuid('must be a uuid'),
  idempotencyKey: () => idempotencyKey,
  provider: () => providerId,
  model: () => modelName,
  latencyMs: () => latencyMs.optional(),
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
    /** Of cacheWriteTokens, those written with a 1-hour lifetime. */
    cacheWrite1hTokens: tokens.default(0),
    webSearchRequests: extras.default(0),
    toolRequests: extras.default(0),
    serviceTier: z.enum(serviceTiers, 'must be one of standard, batch, flex, priority').default('standard'),
    /** Run on the user's own provider key: recorded with its cost, counted against no cost budget. */
    byok: z.boolean('must be true or false').default(false),
    /** Given cost; without it the price table decides. */
    costUsd: usdAmount.optional(),
    sessionId: z.uuid('must be a uuid').optional(),
    messageId: z.number().int().positive('must be a message id').optional(),
    reservationId: z.uuid('must be a uuid').optional(),
    occurredAt: occurredAt.optional(),
    /** The organisation the request was made for (the user must be a member); its budget counts it. */
    organisationId: z.uuid('must be a uuid').optional(),
  })
  .strict()
  .refine((v) => v.cacheWrite1hTokens <= v.cacheWriteTokens, { path: ['cacheWrite1hTokens'], message: messages.cacheWrite1h })
  // The model as prices and totals know it; record_usage applies the same rule.
  .transform((v, ctx) => {
    const model = normalizeModel(v.provider, v.model);
    if (model === '') {
      ctx.addIssue({ code: 'custom', path: ['model'], message: messages.model });
      return z.NEVER;
    }
    return { ...v, model };
  });

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
    olderThanDays: z.number().int().min(limits.idempotencyWindowDays, messages.purgeAge).max(36500),
    batchSize: z.number().int().min(1, messages.purgeBatch).max(limits.purgeBatchMax, messages.purgeBatch).default(10_000),
  })
  .strict();

const tokenDelta = z
  .number()
  .int('must be a whole number')
  .min(-limits.tokensPerRequest, messages.tokenDelta)
  .max(limits.tokensPerRequest, messages.tokenDelta);

const extrasDelta = z
  .number()
  .int('must be a whole number')
  .min(-limits.extrasPerRequest, messages.extrasDelta)
  .max(limits.extrasPerRequest, messages.extrasDelta);

/** A correction of a recorded request: signed deltas, a reason, its own idempotency key. */
export const recordAdjustmentInput = z
  .object({
    /** The request to correct (its event id, from recordUsage). */
    eventId: z.number().int().positive('must be a usage event id'),
    idempotencyKey,
    reason: z.string().trim().min(1, messages.adjustmentReason).max(limits.adjustmentReasonLength, messages.adjustmentReason),
    inputTokens: tokenDelta.default(0),
    outputTokens: tokenDelta.default(0),
    cachedInputTokens: tokenDelta.default(0),
    cacheWriteTokens: tokenDelta.default(0),
    reasoningTokens: tokenDelta.default(0),
    cacheWrite1hTokens: tokenDelta.default(0),
    webSearchRequests: extrasDelta.default(0),
    toolRequests: extrasDelta.default(0),
    costUsd: usdDelta.default('0'),
  })
  .strict();
export type RecordAdjustmentInput = z.input<typeof recordAdjustmentInput>;
