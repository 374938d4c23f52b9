import type { ChatCompletion, ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { CompletionUsage } from 'openai/resources/completions';
import type { ProviderUsage } from './contract.js';
import { costUsd, requiredModel } from './counts.js';
import { chatCompletionCounts } from './openai.js';
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
  const counts = chatCompletionCounts(provider, response, { cacheWrites: true });
  const usage = response.usage as OpenRouterUsage;
  const cost = costUsd(provider, usage.cost, 'usage.cost');
  return {
    provider,
    model: normalizeModel(provider, requiredModel(provider, 'model', response.model)),
    serviceTier: 'standard',
    ...counts,
    costUsd: cost,
    byok: usage.is_byok === true,
  };
}
