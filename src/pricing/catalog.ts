import type { ServiceTier } from '../schema/enums.js';
import { multiplyDecimal } from './decimal.js';

const half = (rate: string) => multiplyDecimal(rate, '0.5');

/**
 * One price row of the catalog: rates in USD, as exact decimal strings, per
 * million tokens of each kind of the token contract (README, "The token
 * contract") and per thousand billable extras.
 *
 * A rate left out (or null) means the provider has no such price for the
 * model here: a request that uses it is recorded unpriced, never charged at
 * a guess. The rows of one provider, model, service tier and `effectiveFrom`
 * form one schedule; a row with `minContextTokens` prices the whole request
 * once its prompt (input, cache reads and cache writes) reaches that size.
 */
export interface CatalogPrice {
  provider: string;
  model: string;
  /**
   * Other names the provider bills at this model's price: dated snapshots
   * ('claude-sonnet-4-5-20250929') and '-latest' names. Each gets price rows
   * of its own.
   */
  aliases?: readonly string[];
  /** When the price took effect, an ISO date or timestamp (UTC). */
  effectiveFrom: string;
  serviceTier?: ServiceTier;
  minContextTokens?: number;
  inputPerMtok: string;
  cachedInputPerMtok: string;
  /** 5-minute cache writes (the only kind where the provider has one lifetime). */
  cacheWritePerMtok: string;
  cacheWrite1hPerMtok?: string | null;
  outputPerMtok: string;
  reasoningPerMtok: string;
  webSearchPerK?: string | null;
  toolRequestPerK?: string | null;
}

export interface CatalogProvider {
  id: string;
  displayName: string;
  isLocal?: boolean;
}

/** A versioned set of prices, as syncPrices loads it. */
export interface PriceCatalog {
  /** Written to every row it adds (model_prices.source), e.g. 'witchcraft-catalog@2026-12-01'. */
  version: string;
  providers?: readonly CatalogProvider[];
  prices: readonly CatalogPrice[];
}

type Rates = Omit<CatalogPrice, 'provider' | 'model' | 'aliases' | 'effectiveFrom' | 'serviceTier'>;

/** The same schedule at half price, as a Batch API bills it (extras keep their price). */
function batchOf(rates: Rates): Rates {
  return {
    ...rates,
    inputPerMtok: half(rates.inputPerMtok),
    cachedInputPerMtok: half(rates.cachedInputPerMtok),
    cacheWritePerMtok: half(rates.cacheWritePerMtok),
    cacheWrite1hPerMtok: rates.cacheWrite1hPerMtok == null ? rates.cacheWrite1hPerMtok : half(rates.cacheWrite1hPerMtok),
    outputPerMtok: half(rates.outputPerMtok),
    reasoningPerMtok: half(rates.reasoningPerMtok),
  };
}

function model(
  provider: string,
  name: string,
  effectiveFrom: string,
  aliases: readonly string[],
  tiers: Partial<Record<ServiceTier, Rates | readonly Rates[]>>,
): CatalogPrice[] {
  return Object.entries(tiers).flatMap(([tier, rates]) =>
    (Array.isArray(rates) ? rates : [rates]).map((r: Rates) => ({
      provider,
      model: name,
      aliases,
      effectiveFrom,
      serviceTier: tier as ServiceTier,
      ...r,
    })),
  );
}

// OpenAI bills reasoning tokens as output, has no charge for writing its
// automatic prompt cache, and has no cache lifetimes to choose. Web search
// is priced per call of the tool, file search per call too.
function openai(input: string, cached: string, output: string, search: string): Rates {
  return {
    inputPerMtok: input,
    cachedInputPerMtok: cached,
    cacheWritePerMtok: '0',
    cacheWrite1hPerMtok: '0',
    outputPerMtok: output,
    reasoningPerMtok: output,
    webSearchPerK: search,
    toolRequestPerK: '2.5',
  };
}

// Anthropic: cache reads at 0.1x input, 5-minute writes at 1.25x, 1-hour
// writes at 2x; extended thinking is billed (and reported) as output; web
// search $10 per thousand.
function anthropic(input: string, output: string, minContextTokens = 0): Rates {
  const x = (factor: string) => multiplyDecimal(input, factor);
  return {
    minContextTokens,
    inputPerMtok: input,
    cachedInputPerMtok: x('0.10'),
    cacheWritePerMtok: x('1.25'),
    cacheWrite1hPerMtok: x('2.00'),
    outputPerMtok: output,
    reasoningPerMtok: output,
    webSearchPerK: '10',
  };
}

// Google bills thinking as output; explicit caches are paid per hour of
// storage (outside a request) and read at the cached rate; implicit caching
// writes nothing billable. Grounding with Google Search is $35 per thousand
// grounded prompts past the daily free allowance (not modelled here).
function gemini(input: string, cached: string, output: string, minContextTokens = 0): Rates {
  return {
    minContextTokens,
    inputPerMtok: input,
    cachedInputPerMtok: cached,
    cacheWritePerMtok: '0',
    cacheWrite1hPerMtok: '0',
    outputPerMtok: output,
    reasoningPerMtok: output,
    webSearchPerK: '35',
  };
}

// Mistral has no prompt-cache price: cached tokens, if ever reported, cost
// what input costs. Reasoning (Magistral) is billed as output.
function mistral(input: string, output: string): Rates {
  return {
    inputPerMtok: input,
    cachedInputPerMtok: input,
    cacheWritePerMtok: input,
    outputPerMtok: output,
    reasoningPerMtok: output,
  };
}

// DeepSeek bills cache hits and misses; a miss is the input rate (writing
// the cache costs nothing more). Reasoning is billed as output.
function deepseek(hit: string, miss: string, output: string): Rates {
  return {
    inputPerMtok: miss,
    cachedInputPerMtok: hit,
    cacheWritePerMtok: miss,
    outputPerMtok: output,
    reasoningPerMtok: output,
  };
}

function withBatch(standard: Rates | readonly Rates[]): Partial<Record<ServiceTier, Rates | readonly Rates[]>> {
  const list = Array.isArray(standard) ? standard : [standard];
  return { standard, batch: list.map(batchOf) };
}

/**
 * The prices Witchcraft ships: the main models of OpenAI, Anthropic, Google,
 * Mistral and DeepSeek, each from the date its price took effect, with the
 * snapshots billed at the same price. Loaded by `npm run db:seed` and by
 * `syncPrices(db, priceCatalog)`; a new version adds rows for what changed
 * and never rewrites a row an event was charged at.
 *
 * Figures are the providers' list prices in USD as published on their
 * pricing pages when this version was made. Free allowances (Google's daily
 * grounding allowance) and storage charges billed outside a request (Gemini
 * explicit cache storage per hour) are not part of a request's cost. A model
 * that is not listed records unpriced (and shows in unpriced_count) until a
 * price for it is loaded: a new catalog version, or LiteLLM's price file
 * through catalogFromLiteLLM (`npm run db:seed -- --litellm <file>`).
 */
export const priceCatalog: PriceCatalog = {
  version: 'witchcraft-catalog@2026-12-01',
  providers: [
    { id: 'openai', displayName: 'OpenAI' },
    { id: 'anthropic', displayName: 'Anthropic' },
    { id: 'google', displayName: 'Google' },
    { id: 'mistral', displayName: 'Mistral' },
    { id: 'deepseek', displayName: 'DeepSeek' },
  ],
  prices: [
    // OpenAI: Batch API at half price; flex (o3, o4-mini, gpt-5) at the batch rates; priority on gpt-5.
    ...model('openai', 'gpt-4o', '2024-10-02', ['gpt-4o-2024-08-06', 'gpt-4o-2024-11-20'], withBatch(openai('2.5', '1.25', '10', '25'))),
    ...model('openai', 'gpt-4o-mini', '2024-07-18', ['gpt-4o-mini-2024-07-18'], withBatch(openai('0.15', '0.075', '0.6', '25'))),
    ...model('openai', 'gpt-4.1', '2025-04-14', ['gpt-4.1-2025-04-14'], withBatch(openai('2', '0.5', '8', '25'))),
    ...model('openai', 'gpt-4.1-mini', '2025-04-14', ['gpt-4.1-mini-2025-04-14'], withBatch(openai('0.4', '0.1', '1.6', '25'))),
    ...model('openai', 'gpt-4.1-nano', '2025-04-14', ['gpt-4.1-nano-2025-04-14'], withBatch(openai('0.1', '0.025', '0.4', '25'))),
    // o3 launched at 10/2.5/40 and was cut to 2/0.5/8 on 2025-06-10: two schedules.
    ...model('openai', 'o3', '2025-04-16', ['o3-2025-04-16'], withBatch(openai('10', '2.5', '40', '10'))),
    ...model('openai', 'o3', '2025-06-10', ['o3-2025-04-16'], {
      ...withBatch(openai('2', '0.5', '8', '10')),
      flex: openai('1', '0.25', '4', '10'),
    }),
    ...model('openai', 'o4-mini', '2025-04-16', ['o4-mini-2025-04-16'], {
      ...withBatch(openai('1.1', '0.275', '4.4', '10')),
      flex: openai('0.55', '0.1375', '2.2', '10'),
    }),
    ...model('openai', 'gpt-5', '2025-08-07', ['gpt-5-2025-08-07'], {
      ...withBatch(openai('1.25', '0.125', '10', '10')),
      flex: openai('0.625', '0.0625', '5', '10'),
      priority: openai('2.5', '0.25', '20', '10'),
    }),
    ...model('openai', 'gpt-5.1', '2025-11-13', ['gpt-5.1-2025-11-13'], {
      ...withBatch(openai('1.25', '0.125', '10', '10')),
      flex: openai('0.625', '0.0625', '5', '10'),
      priority: openai('2.5', '0.25', '20', '10'),
    }),
    ...model('openai', 'gpt-5-mini', '2025-08-07', ['gpt-5-mini-2025-08-07'], {
      ...withBatch(openai('0.25', '0.025', '2', '10')),
      flex: openai('0.125', '0.0125', '1', '10'),
      priority: openai('0.45', '0.045', '3.6', '10'),
    }),
    ...model('openai', 'gpt-5-nano', '2025-08-07', ['gpt-5-nano-2025-08-07'], {
      ...withBatch(openai('0.05', '0.005', '0.4', '10')),
      flex: openai('0.025', '0.0025', '0.2', '10'),
    }),

    // Anthropic: Message Batches at half price, cache multipliers included.
    // Sonnet 4 and 4.5 bill a prompt over 200,000 tokens at the long-context rates, for the whole request.
    ...model('anthropic', 'claude-opus-4-5', '2025-11-24', ['claude-opus-4-5-20251101'], withBatch(anthropic('5', '25'))),
    ...model('anthropic', 'claude-opus-4-1', '2025-08-05', ['claude-opus-4-1-20250805'], withBatch(anthropic('15', '75'))),
    ...model('anthropic', 'claude-opus-4', '2025-05-22', ['claude-opus-4-20250514', 'claude-4-opus-20250514'], withBatch(anthropic('15', '75'))),
    ...model('anthropic', 'claude-sonnet-4-5', '2025-09-29', ['claude-sonnet-4-5-20250929'],
      withBatch([anthropic('3', '15'), anthropic('6', '22.5', 200_001)])),
    ...model('anthropic', 'claude-sonnet-4', '2025-05-22', ['claude-sonnet-4-20250514', 'claude-4-sonnet-20250514'],
      withBatch([anthropic('3', '15'), anthropic('6', '22.5', 200_001)])),
    ...model('anthropic', 'claude-haiku-4-5', '2025-10-15', ['claude-haiku-4-5-20251001'], withBatch(anthropic('1', '5'))),
    ...model('anthropic', 'claude-3-5-haiku', '2024-11-04', ['claude-3-5-haiku-20241022', 'claude-3-5-haiku-latest'], withBatch(anthropic('0.8', '4'))),

    // Google: Batch Mode at half price; Gemini 2.5 Pro bills a prompt over 200,000 tokens at its higher rates.
    ...model('google', 'gemini-2.5-pro', '2025-06-17', [],
      withBatch([gemini('1.25', '0.125', '10'), gemini('2.5', '0.25', '15', 200_001)])),
    ...model('google', 'gemini-3-pro-preview', '2025-11-18', [],
      withBatch([gemini('2', '0.2', '12'), gemini('4', '0.4', '18', 200_001)])),
    ...model('google', 'gemini-2.5-flash', '2025-06-17', [], withBatch(gemini('0.3', '0.03', '2.5'))),
    ...model('google', 'gemini-2.5-flash-lite', '2025-07-22', [], withBatch(gemini('0.1', '0.01', '0.4'))),
    ...model('google', 'gemini-2.0-flash', '2025-02-05', ['gemini-2.0-flash-001'], withBatch(gemini('0.1', '0.025', '0.4'))),

    // Mistral (La Plateforme).
    ...model('mistral', 'mistral-large-latest', '2024-11-18', ['mistral-large-2411'], { standard: mistral('2', '6') }),
    ...model('mistral', 'mistral-medium-latest', '2025-05-07', ['mistral-medium-2505'], { standard: mistral('0.4', '2') }),
    ...model('mistral', 'mistral-small-latest', '2025-03-17', ['mistral-small-2503'], { standard: mistral('0.1', '0.3') }),
    ...model('mistral', 'codestral-latest', '2025-01-13', ['codestral-2501'], { standard: mistral('0.3', '0.9') }),
    ...model('mistral', 'magistral-medium-latest', '2025-06-10', ['magistral-medium-2506'], { standard: mistral('2', '5') }),

    // DeepSeek: V3.1 prices from 2025-09-05, V3.2 prices from 2025-09-29 (both models alike).
    ...model('deepseek', 'deepseek-chat', '2025-09-05', [], { standard: deepseek('0.07', '0.56', '1.68') }),
    ...model('deepseek', 'deepseek-reasoner', '2025-09-05', [], { standard: deepseek('0.07', '0.56', '1.68') }),
    ...model('deepseek', 'deepseek-chat', '2025-09-29', [], { standard: deepseek('0.028', '0.28', '0.42') }),
    ...model('deepseek', 'deepseek-reasoner', '2025-09-29', [], { standard: deepseek('0.028', '0.28', '0.42') }),
  ],
};
