import type { Message, MessageDeltaUsage, MessageStreamEvent, Usage } from '@anthropic-ai/sdk/resources/messages';
import { normalizeModel } from '../pricing/models.js';
import { count as readCount, notLarger, requiredModel, sumCounts } from './counts.js';
import { ProviderUsageError, serviceTiers, type ProviderUsage, type ServiceTier } from './contract.js';

const PROVIDER = 'anthropic';

/** A usage object of the payload and the path it sits at. */
interface Source<U> {
  usage: U;
  path: string;
}

/** A figure as read from the payload, with its path, not yet checked. */
interface Figure {
  value: unknown;
  field: string;
}

const isEventList = (value: Message | readonly MessageStreamEvent[]): value is readonly MessageStreamEvent[] => Array.isArray(value);

const present = (value: unknown): boolean => value !== undefined && value !== null;

function usageOf<U>(usage: U | undefined, path: string): Source<U> {
  if (!present(usage)) throw new ProviderUsageError(PROVIDER, path, 'is missing');
  return { usage: usage as U, path };
}

/**
 * Reads Anthropic's `usage` into the token contract.
 *
 * Anthropic's counts are already disjoint, so nothing is subtracted between
 * them: `input_tokens` is only the prompt tokens that went neither to nor
 * from the cache, `cache_read_input_tokens` the cache hits and
 * `cache_creation_input_tokens` the cache writes of both lifetimes
 * (`cache_creation` splits those into 5-minute and 1-hour writes, and the
 * split must add up to the total).
 *
 * `output_tokens` covers everything generated, extended thinking included,
 * and thinking is billed at the output rate. When the response breaks it
 * down (`output_tokens_details.thinking_tokens`, a part of `output_tokens`),
 * the thinking share goes to `reasoningTokens` and the rest to
 * `outputTokens`; without that breakdown all of it is counted as output and
 * `reasoningTokens` is 0. Either way the two add up to `output_tokens`.
 *
 * `server_tool_use.web_search_requests` is the billed web searches; web
 * fetches are free and not counted. The tier is `usage.service_tier`
 * (null means standard) unless `options.serviceTier` says otherwise, which
 * it should for Message Batches results. `usage.speed` ('fast' mode) is not
 * read: the contract has no figure for it.
 *
 * A stream is read from its raw events (those of one message, in order):
 * `message_start` brings the model, the tier, the cache-write split and the
 * first counts; each `message_delta` repeats the counts so far. Each count is
 * taken from the last event that reports it (not null). A stream without
 * `message_start` or without `message_delta` (it did not finish) is refused.
 * Writes that only the deltas report (the split comes with `message_start`
 * alone) are counted as 5-minute writes.
 *
 * @throws ProviderUsageError naming the payload path of a count that is
 *   missing, not a non-negative integer, or contradicts another.
 */
export function usageFromAnthropic(message: Message | readonly MessageStreamEvent[], options: { serviceTier?: ServiceTier } = {}): ProviderUsage {
  let model: Figure;
  let start: Source<Usage>;
  const deltas: Array<Source<MessageDeltaUsage>> = [];

  if (isEventList(message)) {
    let startIndex: number | undefined;
    let startMessage: Message | undefined;
    message.forEach((event, index) => {
      if (event.type === 'message_start') {
        if (startIndex !== undefined) {
          throw new ProviderUsageError(PROVIDER, 'message_start', `appears twice (events[${startIndex}] and events[${index}]): pass the events of one message`);
        }
        startIndex = index;
        startMessage = event.message;
      } else if (event.type === 'message_delta') {
        deltas.push(usageOf(event.usage, `events[${index}].usage`));
      }
    });
    if (startIndex === undefined || startMessage === undefined) {
      throw new ProviderUsageError(PROVIDER, 'message_start', 'is missing: the model and the input counts come with it');
    }
    if (deltas.length === 0) throw new ProviderUsageError(PROVIDER, 'message_delta', 'is missing: the stream did not finish');
    model = { value: startMessage.model, field: `events[${startIndex}].message.model` };
    start = usageOf(startMessage.usage, `events[${startIndex}].message.usage`);
  } else {
    model = { value: message.model, field: 'model' };
    start = usageOf(message.usage, 'usage');
  }

  // message_start first, then the deltas in order: the last one reporting a figure wins.
  const sources: Array<Source<Usage | MessageDeltaUsage>> = [start, ...deltas];
  const latest = <K extends keyof Usage & keyof MessageDeltaUsage>(key: K): Figure => {
    for (let i = sources.length - 1; i > 0; i--) {
      const source = sources[i]!;
      if (present(source.usage[key])) return { value: source.usage[key], field: `${source.path}.${key}` };
    }
    return { value: start.usage[key], field: `${start.path}.${key}` };
  };
  const count = (figure: Figure, required = false): number => readCount(PROVIDER, figure.value, figure.field, required);

  const inputTokens = count(latest('input_tokens'), true);
  const cachedInputTokens = count(latest('cache_read_input_tokens'));
  const writes = cacheWrites(start, latest('cache_creation_input_tokens'));

  const outputFigure = latest('output_tokens');
  const outputTotal = count(outputFigure, true);
  const details = latest('output_tokens_details');
  let reasoningTokens = 0;
  if (present(details.value)) {
    const thinking = { value: (details.value as { thinking_tokens?: unknown }).thinking_tokens, field: `${details.field}.thinking_tokens` };
    reasoningTokens = count(thinking, true);
    notLarger(PROVIDER, reasoningTokens, thinking.field, outputTotal, outputFigure.field);
  }

  const serverTools = latest('server_tool_use');
  const webSearchRequests = present(serverTools.value)
    ? count({ value: (serverTools.value as { web_search_requests?: unknown }).web_search_requests, field: `${serverTools.field}.web_search_requests` })
    : 0;

  return {
    provider: PROVIDER,
    model: normalizeModel(PROVIDER, requiredModel(PROVIDER, model.field, model.value)),
    serviceTier: options.serviceTier ?? tierOf(start),
    inputTokens,
    cachedInputTokens,
    cacheWriteTokens: writes.total,
    cacheWrite1hTokens: writes.oneHour,
    outputTokens: outputTotal - reasoningTokens,
    reasoningTokens,
    webSearchRequests,
    toolRequests: 0,
  };
}

/**
 * Cache writes: the total (the last one reported) and its 1-hour part. The
 * 5m/1h split comes with the first usage object only and must add up to that
 * object's own total; when that total is null, the split's sum stands for it.
 */
function cacheWrites(start: Source<Usage>, latestTotal: Figure): { total: number; oneHour: number } {
  const startTotalField = `${start.path}.cache_creation_input_tokens`;
  const split: unknown = start.usage.cache_creation;
  const startTotal = readCount(PROVIDER, start.usage.cache_creation_input_tokens, startTotalField, false);
  if (!present(split)) {
    return { total: readCount(PROVIDER, latestTotal.value, latestTotal.field, false), oneHour: 0 };
  }

  const splitField = `${start.path}.cache_creation`;
  const { ephemeral_5m_input_tokens: fiveMinutes, ephemeral_1h_input_tokens: oneHour } = split as Partial<Record<string, unknown>>;
  const short = readCount(PROVIDER, fiveMinutes, `${splitField}.ephemeral_5m_input_tokens`, false);
  const long = readCount(PROVIDER, oneHour, `${splitField}.ephemeral_1h_input_tokens`, false);
  const splitSum = sumCounts(PROVIDER, splitField, short, long);
  if (present(start.usage.cache_creation_input_tokens) && splitSum !== startTotal) {
    throw new ProviderUsageError(
      PROVIDER,
      splitField,
      `adds up to ${splitSum} (5m ${short} + 1h ${long}), but ${startTotalField} is ${startTotal}`,
    );
  }

  // Only a delta reporting a total of its own replaces the first object's.
  const total = latestTotal.field === startTotalField ? splitSum : readCount(PROVIDER, latestTotal.value, latestTotal.field, true);
  notLarger(PROVIDER, long, `${splitField}.ephemeral_1h_input_tokens`, total, latestTotal.field);
  return { total, oneHour: long };
}

function tierOf(start: Source<Usage>): ServiceTier {
  const tier: unknown = start.usage.service_tier;
  if (!present(tier)) return 'standard';
  if (typeof tier === 'string' && (serviceTiers as readonly string[]).includes(tier)) return tier as ServiceTier;
  throw new ProviderUsageError(PROVIDER, `${start.path}.service_tier`, `is not a known service tier: ${JSON.stringify(tier)}`);
}
