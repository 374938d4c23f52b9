import type { ChatCompletion, ChatCompletionChunk } from 'openai/resources/chat/completions';
import type { Response } from 'openai/resources/responses/responses';
import { ProviderUsageError, serviceTiers, type ProviderUsage, type ServiceTier } from './contract.js';
import { checkSum, count, notLarger, requiredModel } from './counts.js';
import { normalizeModel } from '../pricing/models.js';

const provider = 'openai';

/** The service tier OpenAI says served the request; every value that bills at the standard rate is 'standard'. */
function tierOf(value: unknown): ServiceTier {
  switch (value) {
    case 'flex':
      return 'flex';
    case 'priority':
      return 'priority';
    case 'default':
    case 'auto':
    case 'scale':
    case null:
    case undefined:
      return 'standard';
    default:
      throw new ProviderUsageError(provider, 'service_tier', `is not a tier we know how to price (${String(value)})`);
  }
}

/**
 * Chat Completions (a response, or the last chunk of a stream). OpenAI's
 * `prompt_tokens` already contains the cached prompt tokens
 * (`prompt_tokens_details.cached_tokens`) and `completion_tokens` already
 * contains the reasoning tokens (`completion_tokens_details.reasoning_tokens`):
 * both are taken out of the totals here, so that each token is counted once.
 * OpenAI does not charge for writing its cache, so those tokens stay input;
 * a provider of the same format that bills cache writes apart (OpenRouter)
 * asks for `prompt_tokens_details.cache_write_tokens` to be taken out too.
 * Shared by the adapters of APIs in this format.
 */
export function chatCompletionCounts(
  source: string,
  response: ChatCompletion | ChatCompletionChunk,
  options: { cacheWrites: boolean },
) {
  const usage = response.usage;
  if (usage === undefined || usage === null) {
    throw new ProviderUsageError(
      source,
      'usage',
      response.object === 'chat.completion.chunk'
        ? 'is missing: only the final stream chunk carries usage (stream_options.include_usage)'
        : 'is missing',
    );
  }
  const prompt = count(source, usage.prompt_tokens, 'usage.prompt_tokens', true);
  const completion = count(source, usage.completion_tokens, 'usage.completion_tokens', true);
  const cached = count(source, usage.prompt_tokens_details?.cached_tokens, 'usage.prompt_tokens_details.cached_tokens', false);
  const written = options.cacheWrites
    ? count(source, usage.prompt_tokens_details?.cache_write_tokens, 'usage.prompt_tokens_details.cache_write_tokens', false)
    : 0;
  const reasoning = count(
    source,
    usage.completion_tokens_details?.reasoning_tokens,
    'usage.completion_tokens_details.reasoning_tokens',
    false,
  );
  notLarger(source, cached, 'usage.prompt_tokens_details.cached_tokens', prompt, 'usage.prompt_tokens');
  notLarger(source, written, 'usage.prompt_tokens_details.cache_write_tokens', prompt, 'usage.prompt_tokens');
  if (cached + written > prompt) {
    throw new ProviderUsageError(
      source,
      'usage.prompt_tokens_details',
      `cached_tokens + cache_write_tokens is larger than usage.prompt_tokens (${cached} + ${written} > ${prompt})`,
    );
  }
  notLarger(source, reasoning, 'usage.completion_tokens_details.reasoning_tokens', completion, 'usage.completion_tokens');
  if (usage.total_tokens !== undefined && usage.total_tokens !== null) {
    const total = count(source, usage.total_tokens, 'usage.total_tokens', true);
    checkSum(source, total, 'usage.total_tokens', { 'usage.prompt_tokens': prompt, 'usage.completion_tokens': completion });
  }
  return {
    inputTokens: prompt - cached - written,
    cachedInputTokens: cached,
    cacheWriteTokens: written,
    cacheWrite1hTokens: 0,
    outputTokens: completion - reasoning,
    reasoningTokens: reasoning,
    webSearchRequests: 0,
    toolRequests: 0,
  };
}

/**
 * The Responses API. `input_tokens` contains the cached tokens
 * (`input_tokens_details.cached_tokens`) and `output_tokens` the reasoning
 * tokens (`output_tokens_details.reasoning_tokens`); both are taken out of
 * the totals. Its `cache_write_tokens` are also inside `input_tokens`, and
 * as OpenAI bills them at the plain input rate they stay input. Searches
 * the model ran are the `web_search_call` items of `output`, and vector
 * store searches its `file_search_call` items: OpenAI bills both per call.
 */
function fromResponses(response: Response) {
  const usage = response.usage;
  if (usage === undefined || usage === null) {
    throw new ProviderUsageError(provider, 'usage', 'is missing: pass the response of the response.completed event');
  }
  const input = count(provider, usage.input_tokens, 'usage.input_tokens', true);
  const output = count(provider, usage.output_tokens, 'usage.output_tokens', true);
  const cached = count(provider, usage.input_tokens_details?.cached_tokens, 'usage.input_tokens_details.cached_tokens', false);
  const reasoning = count(
    provider,
    usage.output_tokens_details?.reasoning_tokens,
    'usage.output_tokens_details.reasoning_tokens',
    false,
  );
  notLarger(provider, cached, 'usage.input_tokens_details.cached_tokens', input, 'usage.input_tokens');
  notLarger(provider, reasoning, 'usage.output_tokens_details.reasoning_tokens', output, 'usage.output_tokens');
  if (usage.total_tokens !== undefined && usage.total_tokens !== null) {
    const total = count(provider, usage.total_tokens, 'usage.total_tokens', true);
    checkSum(provider, total, 'usage.total_tokens', { 'usage.input_tokens': input, 'usage.output_tokens': output });
  }
  if (!Array.isArray(response.output)) throw new ProviderUsageError(provider, 'output', 'is not a list of output items');
  return {
    inputTokens: input - cached,
    cachedInputTokens: cached,
    cacheWriteTokens: 0,
    cacheWrite1hTokens: 0,
    outputTokens: output - reasoning,
    reasoningTokens: reasoning,
    webSearchRequests: response.output.filter((item) => item.type === 'web_search_call').length,
    toolRequests: response.output.filter((item) => item.type === 'file_search_call').length,
  };
}

/**
 * The usage of one OpenAI request, from a Chat Completions response, the
 * final chunk of a Chat Completions stream (the one carrying `usage`, sent
 * when the request set `stream_options.include_usage`), or a Responses API
 * response (when streaming, the `response` of the `response.completed`
 * event).
 *
 * The tier is `options.serviceTier` when given (a Batch API result does
 * not say it ran as a batch, so the caller says so), else the response's
 * `service_tier`. Throws ProviderUsageError rather than guess a count.
 *
 * `options.provider` records the request under another provider whose API
 * speaks OpenAI's format and counts the same way (DeepSeek's
 * `prompt_tokens` also includes its cache hits, reported as
 * `prompt_tokens_details.cached_tokens`).
 */
export function usageFromOpenAI(
  response: ChatCompletion | ChatCompletionChunk | Response,
  options?: { serviceTier?: ServiceTier; provider?: string },
): ProviderUsage {
  const given = options?.serviceTier;
  if (given !== undefined && !serviceTiers.includes(given)) {
    throw new ProviderUsageError(provider, 'options.serviceTier', `is not one of ${serviceTiers.join(', ')}`);
  }
  let counts;
  switch (response.object) {
    case 'response':
      counts = fromResponses(response);
      break;
    case 'chat.completion':
    case 'chat.completion.chunk':
      counts = chatCompletionCounts(provider, response, { cacheWrites: false });
      break;
    default:
      throw new ProviderUsageError(
        provider,
        'object',
        `is not chat.completion, chat.completion.chunk or response (${String((response as { object?: unknown }).object)})`,
      );
  }
  const recordedAs = options?.provider ?? provider;
  return {
    provider: recordedAs,
    model: normalizeModel(recordedAs, requiredModel(provider, 'model', response.model)),
    serviceTier: given ?? tierOf(response.service_tier),
    ...counts,
  };
}
