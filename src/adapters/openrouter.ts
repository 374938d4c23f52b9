import type { ChatCompletion, ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { CompletionUsage } from 'openai/resources/completions';
import { ProviderUsageError, type ProviderUsage } from './contract.js';
import { checkSum, costUsd, count, notLarger } from './counts.js';
import { normalizeModel } from '../pricing/models.js';

const provider = 'openrouter';

/**
 * OpenRouter's usage object: OpenAI's, plus what OpenRouter charged. The
 * token breakdown (`prompt_tokens_details.cached_tokens` and
 * `.cache_write_tokens`, `completion_tokens_details.reasoning_tokens`) has
 * OpenAI's field names, which the openai SDK already declares.
 */
export interface OpenRouterUsage extends CompletionUsage {
  /** What OpenRouter charged for the request, in USD (credits), as a JSON number. */
  cost?: number;
  /** True when the request ran on the user's own key at the upstream provider. */
  is_byok?: boolean;
}

/**
 * The usage of one OpenRouter chat request, from the response or from the
 * final chunk of its stream (the only one carrying `usage`).
 *
 * `prompt_tokens` contains both the tokens read from the cache and those
 * written to it, and `completion_tokens` contains the reasoning tokens: all
 * three are taken out of the totals they belong to, so that each token is
 * counted once. The model keeps its vendor prefix ('anthropic/claude-sonnet-4'),
 * which is how OpenRouter names it. `cost` is what OpenRouter reports having
 * charged and becomes `costUsd`; as OpenRouter always reports it, a usage
 * without it is refused rather than priced from our table.
 */
export function usageFromOpenRouter(response: ChatCompletion | ChatCompletionChunk): ProviderUsage {
  const usage = response.usage as OpenRouterUsage | null | undefined;
  if (usage === undefined || usage === null) {
    throw new ProviderUsageError(
      provider,
      'usage',
      response.object === 'chat.completion.chunk'
        ? 'is missing: only the final stream chunk carries usage (stream_options.include_usage)'
        : 'is missing',
    );
  }
  const prompt = count(provider, usage.prompt_tokens, 'usage.prompt_tokens', true);
  const completion = count(provider, usage.completion_tokens, 'usage.completion_tokens', true);
  const cached = count(provider, usage.prompt_tokens_details?.cached_tokens, 'usage.prompt_tokens_details.cached_tokens', false);
  const written = count(
    provider,
    usage.prompt_tokens_details?.cache_write_tokens,
    'usage.prompt_tokens_details.cache_write_tokens',
    false,
  );
  const reasoning = count(
    provider,
    usage.completion_tokens_details?.reasoning_tokens,
    'usage.completion_tokens_details.reasoning_tokens',
    false,
  );
  notLarger(provider, cached, 'usage.prompt_tokens_details.cached_tokens', prompt, 'usage.prompt_tokens');
  notLarger(provider, written, 'usage.prompt_tokens_details.cache_write_tokens', prompt, 'usage.prompt_tokens');
  if (cached + written > prompt) {
    throw new ProviderUsageError(
      provider,
      'usage.prompt_tokens_details',
      `cached_tokens + cache_write_tokens is larger than usage.prompt_tokens (${cached} + ${written} > ${prompt})`,
    );
  }
  notLarger(provider, reasoning, 'usage.completion_tokens_details.reasoning_tokens', completion, 'usage.completion_tokens');
  if (usage.total_tokens !== undefined && usage.total_tokens !== null) {
    const total = count(provider, usage.total_tokens, 'usage.total_tokens', true);
    checkSum(provider, total, 'usage.total_tokens', { 'usage.prompt_tokens': prompt, 'usage.completion_tokens': completion });
  }
  const cost = costUsd(provider, usage.cost, 'usage.cost');
  if (typeof response.model !== 'string' || response.model.trim() === '') {
    throw new ProviderUsageError(provider, 'model', 'is missing');
  }
  return {
    provider,
    model: normalizeModel(provider, response.model),
    serviceTier: 'standard',
    inputTokens: prompt - cached - written,
    cachedInputTokens: cached,
    cacheWriteTokens: written,
    cacheWrite1hTokens: 0,
    outputTokens: completion - reasoning,
    reasoningTokens: reasoning,
    webSearchRequests: 0,
    toolRequests: 0,
    costUsd: cost,
    byok: usage.is_byok === true,
  };
}
