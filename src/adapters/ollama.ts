import type { ChatResponse, GenerateResponse } from 'ollama';
import { normalizeModel } from '../pricing/models.js';
import { count, requiredModel } from './counts.js';
import { ProviderUsageError, type ProviderUsage } from './contract.js';

const PROVIDER = 'ollama';

/**
 * The part of a chat or generate response this adapter reads. The SDK types
 * declare both counts as always there, but Ollama can leave them out of the
 * JSON (a prompt served whole from its cache may come without
 * `prompt_eval_count`), so here they may be missing.
 */
export type OllamaUsageSource = Pick<ChatResponse | GenerateResponse, 'model' | 'done'> &
  Partial<Pick<ChatResponse | GenerateResponse, 'prompt_eval_count' | 'eval_count'>>;

/**
 * Reads the counts of Ollama's final response (`done: true`; with
 * `stream: true`, the last chunk) into the token contract: the prompt tokens
 * evaluated (`prompt_eval_count`) are input and the tokens generated
 * (`eval_count`) are output. Thinking is part of `eval_count` and not
 * reported apart, so it is counted as output. Ollama runs locally: no cache
 * pricing, no tier, no cost.
 *
 * A chunk with `done: false` carries no counts and is refused. When Ollama
 * reused the whole prompt from its cache, the final response may leave out
 * `prompt_eval_count`; that reads as 0 input tokens. `eval_count` is required.
 *
 * @throws ProviderUsageError naming the payload path of a count that is
 *   missing, not a non-negative integer, or of a chunk that is not the final one.
 */
export function usageFromOllama(response: ChatResponse | GenerateResponse | OllamaUsageSource): ProviderUsage {
  if (response.done !== true) {
    throw new ProviderUsageError(PROVIDER, 'done', 'is not true: only the final chunk carries the counts');
  }
  return {
    provider: PROVIDER,
    model: normalizeModel(PROVIDER, requiredModel(PROVIDER, 'model', response.model)),
    serviceTier: 'standard',
    inputTokens: count(PROVIDER, response.prompt_eval_count, 'prompt_eval_count', false),
    cachedInputTokens: 0,
    cacheWriteTokens: 0,
    cacheWrite1hTokens: 0,
    outputTokens: count(PROVIDER, response.eval_count, 'eval_count', true),
    reasoningTokens: 0,
    webSearchRequests: 0,
    toolRequests: 0,
  };
}
