import type { GenerateContentResponse } from '@google/genai';
import { normalizeModel } from '../pricing/models.js';
import { checkSum, count, notLarger, optionalCount, requiredModel, sumCounts } from './counts.js';
import { ProviderUsageError, type ProviderUsage, type ServiceTier } from './contract.js';

const PROVIDER = 'google';

/**
 * The part of a GenerateContentResponse this adapter reads. The SDK returns a
 * class whose getters (text, functionCalls, ...) a plain JSON payload lacks;
 * both fit here.
 */
export type GeminiUsageSource = Pick<GenerateContentResponse, 'candidates' | 'modelVersion' | 'usageMetadata'>;

/** Vertex AI's traffic types that name one of our tiers; the others are standard. */
const tierOfTraffic: ReadonlyMap<string, ServiceTier> = new Map([
  ['ON_DEMAND_FLEX', 'flex'],
  ['ON_DEMAND_PRIORITY', 'priority'],
]);

/**
 * Reads a Gemini `usageMetadata` into the token contract.
 *
 * `promptTokenCount` is the whole prompt, cached content included, so the
 * cache hits (`cachedContentTokenCount`) are taken out of it to leave the
 * tokens read at the full rate. The tool-use prompt
 * (`toolUsePromptTokenCount`, results of the provider's own tools fed back
 * to the model) is billed as input but not part of `promptTokenCount`, so it
 * is added to the input. `candidatesTokenCount` is the answer without the
 * thinking, which is `thoughtsTokenCount`: they are output and reasoning as
 * they stand. When `totalTokenCount` is given it must equal prompt +
 * tool-use prompt + candidates + thoughts.
 *
 * Gemini reports no cache writes (an explicit cache is created, and billed,
 * by a call of its own): 0.
 *
 * Grounding with Google Search: `webSearchRequests` is the number of
 * distinct `groundingMetadata.webSearchQueries` over all candidates. Gemini 3
 * models bill each search query; 2.5 models bill a grounded prompt once,
 * whatever its query count, and the price catalog prices them accordingly.
 *
 * The model is `options.model`, else the response's `modelVersion`. The tier
 * is `options.serviceTier`, else the one Vertex AI's `trafficType` names
 * (flex, priority), else standard: a Batch API result is an ordinary
 * response, so its caller passes 'batch'.
 *
 * Of a stream, pass the final chunk: it carries the usage of the whole
 * response. A chunk whose candidates have no `finishReason` yet is not the
 * final one and is refused.
 *
 * @throws ProviderUsageError naming the payload path of a count that is
 *   missing, not a non-negative integer, or contradicts another.
 */
export function usageFromGemini(response: GeminiUsageSource, options: { model?: string; serviceTier?: ServiceTier } = {}): ProviderUsage {
  const usage = response.usageMetadata;
  if (usage === undefined || usage === null) {
    throw new ProviderUsageError(PROVIDER, 'usageMetadata.promptTokenCount', 'is missing: the response has no usageMetadata');
  }

  const candidates = response.candidates ?? [];
  if (candidates.length > 0 && !candidates.some((candidate) => present(candidate.finishReason))) {
    throw new ProviderUsageError(PROVIDER, 'candidates[0].finishReason', 'is missing: not the final stream chunk, whose usage covers the whole response');
  }

  const prompt = count(PROVIDER, usage.promptTokenCount, 'usageMetadata.promptTokenCount', true);
  const cached = count(PROVIDER, usage.cachedContentTokenCount, 'usageMetadata.cachedContentTokenCount', false);
  notLarger(PROVIDER, cached, 'usageMetadata.cachedContentTokenCount', prompt, 'usageMetadata.promptTokenCount');
  const toolUsePrompt = count(PROVIDER, usage.toolUsePromptTokenCount, 'usageMetadata.toolUsePromptTokenCount', false);
  const candidatesTokens = count(PROVIDER, usage.candidatesTokenCount, 'usageMetadata.candidatesTokenCount', false);
  const thoughts = count(PROVIDER, usage.thoughtsTokenCount, 'usageMetadata.thoughtsTokenCount', false);

  const total = optionalCount(PROVIDER, usage.totalTokenCount, 'usageMetadata.totalTokenCount');
  if (total !== undefined) {
    checkSum(PROVIDER, total, 'usageMetadata.totalTokenCount', {
      'usageMetadata.promptTokenCount': prompt,
      'usageMetadata.toolUsePromptTokenCount': toolUsePrompt,
      'usageMetadata.candidatesTokenCount': candidatesTokens,
      'usageMetadata.thoughtsTokenCount': thoughts,
    });
  }

  const queries = new Set<string>();
  candidates.forEach((candidate, index) => {
    const found: unknown = candidate.groundingMetadata?.webSearchQueries;
    if (!present(found)) return;
    if (!Array.isArray(found)) {
      throw new ProviderUsageError(PROVIDER, `candidates[${index}].groundingMetadata.webSearchQueries`, 'must be a list of queries');
    }
    for (const query of found) if (typeof query === 'string' && query.trim() !== '') queries.add(query);
  });

  const model = options.model ?? response.modelVersion;
  const trafficType: string | undefined = usage.trafficType;

  return {
    provider: PROVIDER,
    model: normalizeModel(PROVIDER, requiredModel(PROVIDER, 'modelVersion', model)),
    serviceTier: options.serviceTier ?? (trafficType === undefined ? undefined : tierOfTraffic.get(trafficType)) ?? 'standard',
    inputTokens: sumCounts(PROVIDER, 'usageMetadata.toolUsePromptTokenCount', prompt - cached, toolUsePrompt),
    cachedInputTokens: cached,
    cacheWriteTokens: 0,
    cacheWrite1hTokens: 0,
    outputTokens: candidatesTokens,
    reasoningTokens: thoughts,
    webSearchRequests: queries.size,
    toolRequests: 0,
  };
}

function present(value: unknown): boolean {
  return value !== undefined && value !== null;
}
