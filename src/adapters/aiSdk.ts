import type { LanguageModelUsage } from 'ai';
import { ProviderUsageError, serviceTiers, type ProviderUsage, type ServiceTier } from './contract.js';
import { checkSum, count, notLarger, optionalCount, requiredModel } from './counts.js';
import { normalizeModel } from '../pricing/models.js';

/** What the AI SDK's usage does not say: who served the request, and the extras the caller counted. */
export interface AiSdkUsageMeta {
  /** The provider, as our id ('openai') or as the AI SDK spells it ('openai.responses', 'google.generative-ai'). */
  provider: string;
  /** The model id the request asked for or the response reported. */
  model: string;
  serviceTier?: ServiceTier;
  /** Of the cache writes, those with a 1-hour lifetime (from the provider's metadata). */
  cacheWrite1hTokens?: number;
  webSearchRequests?: number;
  toolRequests?: number;
}

/**
 * Our provider id from the AI SDK's provider string: the part before the
 * first dot ('anthropic.messages' is 'anthropic'), in lower case.
 */
function providerId(value: unknown): string {
  const id = typeof value === 'string' ? (value.trim().toLowerCase().split('.')[0] ?? '') : '';
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(id)) {
    throw new ProviderUsageError('ai-sdk', 'meta.provider', `is not a provider id (${JSON.stringify(value)})`);
  }
  return id;
}

/**
 * The usage of one AI SDK call (`result.usage` of a step, or `totalUsage`),
 * in the AI SDK 6 shape: `inputTokens` is the whole prompt, of which
 * `inputTokenDetails` splits off the tokens read from the cache
 * (`cacheReadTokens`) and written to it (`cacheWriteTokens`), the rest being
 * `noCacheTokens`; `outputTokens` is all that was generated, of which
 * `outputTokenDetails.reasoningTokens` was reasoning and `textTokens` the
 * rest. Each token lands in exactly one of our kinds.
 *
 * A missing total is refused, never read as 0. A detail left out counts 0
 * (`noCacheTokens` and `textTokens` are then what remains of the total), and
 * details that do not add up to their total are refused.
 */
export function usageFromAiSdk(usage: LanguageModelUsage, meta: AiSdkUsageMeta): ProviderUsage {
  const provider = providerId(meta.provider);
  const model = requiredModel(provider, 'meta.model', meta.model);
  if (meta.serviceTier !== undefined && !serviceTiers.includes(meta.serviceTier)) {
    throw new ProviderUsageError(provider, 'meta.serviceTier', `is not one of ${serviceTiers.join(', ')}`);
  }

  const input = optionalCount(provider, usage.inputTokens, 'usage.inputTokens');
  const output = optionalCount(provider, usage.outputTokens, 'usage.outputTokens');
  if (input === undefined) throw new ProviderUsageError(provider, 'usage.inputTokens', 'is missing');
  if (output === undefined) throw new ProviderUsageError(provider, 'usage.outputTokens', 'is missing');

  // A detail left out may still be in its deprecated top-level copy.
  const inDetails = usage.inputTokenDetails;
  const outDetails = usage.outputTokenDetails;
  const detail = (value: number | undefined, path: string, legacy: number | undefined, legacyPath: string): number =>
    value === undefined || value === null ? count(provider, legacy, legacyPath, false) : count(provider, value, path, false);
  const noCache = optionalCount(provider, inDetails?.noCacheTokens, 'usage.inputTokenDetails.noCacheTokens');
  const cacheRead = detail(inDetails?.cacheReadTokens, 'usage.inputTokenDetails.cacheReadTokens', usage.cachedInputTokens, 'usage.cachedInputTokens');
  const cacheWrite = count(provider, inDetails?.cacheWriteTokens, 'usage.inputTokenDetails.cacheWriteTokens', false);
  const text = optionalCount(provider, outDetails?.textTokens, 'usage.outputTokenDetails.textTokens');
  const reasoning = detail(outDetails?.reasoningTokens, 'usage.outputTokenDetails.reasoningTokens', usage.reasoningTokens, 'usage.reasoningTokens');

  notLarger(provider, cacheRead, 'usage.inputTokenDetails.cacheReadTokens', input, 'usage.inputTokens');
  notLarger(provider, cacheWrite, 'usage.inputTokenDetails.cacheWriteTokens', input, 'usage.inputTokens');
  if (noCache !== undefined) {
    notLarger(provider, noCache, 'usage.inputTokenDetails.noCacheTokens', input, 'usage.inputTokens');
    checkSum(provider, input, 'usage.inputTokens', {
      'usage.inputTokenDetails.noCacheTokens': noCache,
      'usage.inputTokenDetails.cacheReadTokens': cacheRead,
      'usage.inputTokenDetails.cacheWriteTokens': cacheWrite,
    });
  } else if (cacheRead + cacheWrite > input) {
    throw new ProviderUsageError(
      provider,
      'usage.inputTokenDetails',
      `cacheReadTokens + cacheWriteTokens is larger than usage.inputTokens (${cacheRead} + ${cacheWrite} > ${input})`,
    );
  }
  notLarger(provider, reasoning, 'usage.outputTokenDetails.reasoningTokens', output, 'usage.outputTokens');
  if (text !== undefined) {
    notLarger(provider, text, 'usage.outputTokenDetails.textTokens', output, 'usage.outputTokens');
    checkSum(provider, output, 'usage.outputTokens', {
      'usage.outputTokenDetails.textTokens': text,
      'usage.outputTokenDetails.reasoningTokens': reasoning,
    });
  }
  const total = optionalCount(provider, usage.totalTokens, 'usage.totalTokens');
  if (total !== undefined) checkSum(provider, total, 'usage.totalTokens', { 'usage.inputTokens': input, 'usage.outputTokens': output });

  const cacheWrite1h = count(provider, meta.cacheWrite1hTokens, 'meta.cacheWrite1hTokens', false);
  notLarger(provider, cacheWrite1h, 'meta.cacheWrite1hTokens', cacheWrite, 'usage.inputTokenDetails.cacheWriteTokens');

  return {
    provider,
    model: normalizeModel(provider, model),
    serviceTier: meta.serviceTier ?? 'standard',
    inputTokens: noCache ?? input - cacheRead - cacheWrite,
    cachedInputTokens: cacheRead,
    cacheWriteTokens: cacheWrite,
    cacheWrite1hTokens: cacheWrite1h,
    outputTokens: text ?? output - reasoning,
    reasoningTokens: reasoning,
    webSearchRequests: count(provider, meta.webSearchRequests, 'meta.webSearchRequests', false),
    toolRequests: count(provider, meta.toolRequests, 'meta.toolRequests', false),
  };
}
