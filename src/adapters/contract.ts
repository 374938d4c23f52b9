import { ValidationError } from '../errors.js';
import type { ServiceTier } from '../schema/enums.js';

/**
 * The token contract: what each figure of a usage record means, whichever
 * provider reported it. The five kinds that make up `total_tokens` never
 * overlap, so their sum is what the provider bills; one more figure breaks a
 * kind down further without adding to the total.
 *
 * | figure               | counts                                                       |
 * |----------------------|--------------------------------------------------------------|
 * | `inputTokens`        | prompt tokens read at the full input rate: neither read from nor written to a cache |
 * | `cachedInputTokens`  | prompt tokens read from a cache (cache hits)                |
 * | `cacheWriteTokens`   | prompt tokens written to a cache, of every lifetime          |
 * | `cacheWrite1hTokens` | of `cacheWriteTokens`, those written with a 1-hour lifetime (the rest live 5 minutes); not added to the total |
 * | `outputTokens`       | generated tokens other than reasoning                         |
 * | `reasoningTokens`    | reasoning ("thinking") tokens, whether or not the provider shows them |
 *
 * Billable extras that are not tokens are counted per request:
 * `webSearchRequests` (web searches run by the provider for the request) and
 * `toolRequests` (other tool calls the provider bills per call).
 */
export { serviceTiers, type ServiceTier } from '../schema/enums.js';

/** What a provider adapter hands to recordUsage: spread it into the input, with the user, key and agent mode. */
export interface ProviderUsage {
  /** Our provider id (a row of ai_providers): 'openai', 'anthropic', 'google', 'ollama', 'openrouter', ... */
  provider: string;
  /** The model as the provider reported it, normalised (normalizeModel). */
  model: string;
  serviceTier: ServiceTier;
  inputTokens: number;
  cachedInputTokens: number;
  cacheWriteTokens: number;
  cacheWrite1hTokens: number;
  outputTokens: number;
  reasoningTokens: number;
  webSearchRequests: number;
  toolRequests: number;
  /** The cost the provider itself reported, as an exact decimal string (OpenRouter); absent when the price table decides. */
  costUsd?: string;
  /** True when the request ran on the user's own provider key: recorded with its cost, counted against no cost budget. */
  byok?: boolean;
}

/**
 * A provider's usage object that an adapter cannot read: a missing or
 * negative count, counts that contradict each other, a stream chunk that is
 * not the final one. `field` is the path in the provider's payload. An
 * adapter throws this rather than record zero.
 */
export class ProviderUsageError extends ValidationError {
  constructor(
    readonly provider: string,
    field: string,
    rule: string,
  ) {
    super(field, `${rule} (${provider} usage)`);
  }
}
