import type { ServiceTier } from '../schema/enums.js';
import type { CatalogPrice, PriceCatalog } from './catalog.js';
import { decimalFromNumber, roundDecimal, shiftDecimal } from './decimal.js';
import { normalizeModel } from './models.js';

/**
 * The fields of one model in LiteLLM's `model_prices_and_context_window.json`
 * that a price needs. Costs there are USD per token (per query for search)
 * as JSON numbers; everything else in an entry is ignored.
 */
export interface LiteLLMModelEntry {
  litellm_provider?: string;
  mode?: string;
  input_cost_per_token?: number;
  output_cost_per_token?: number;
  output_cost_per_reasoning_token?: number;
  cache_read_input_token_cost?: number;
  cache_creation_input_token_cost?: number;
  cache_creation_input_token_cost_above_1hr?: number;
  input_cost_per_token_above_128k_tokens?: number;
  output_cost_per_token_above_128k_tokens?: number;
  input_cost_per_token_above_200k_tokens?: number;
  output_cost_per_token_above_200k_tokens?: number;
  cache_read_input_token_cost_above_200k_tokens?: number;
  cache_creation_input_token_cost_above_200k_tokens?: number;
  cache_creation_input_token_cost_above_1hr_above_200k_tokens?: number;
  input_cost_per_token_batches?: number;
  output_cost_per_token_batches?: number;
  input_cost_per_token_flex?: number;
  output_cost_per_token_flex?: number;
  cache_read_input_token_cost_flex?: number;
  input_cost_per_token_priority?: number;
  output_cost_per_token_priority?: number;
  cache_read_input_token_cost_priority?: number;
  search_context_cost_per_query?: {
    search_context_size_low?: number;
    search_context_size_medium?: number;
    search_context_size_high?: number;
  };
  [field: string]: unknown;
}

/** LiteLLM's provider names that are ours under another name; others are skipped unless `providers` maps them. */
export const liteLLMProviders: Readonly<Record<string, string>> = {
  openai: 'openai',
  text_completion_openai: 'openai',
  anthropic: 'anthropic',
  gemini: 'google',
  'vertex_ai-language-models': 'google',
  mistral: 'mistral',
  codestral: 'mistral',
  deepseek: 'deepseek',
  openrouter: 'openrouter',
};

export interface LiteLLMImportOptions {
  /** When these prices took effect (the file carries no dates), an ISO date. */
  effectiveFrom: string;
  /** The catalog version written to each row's source, e.g. 'litellm@2026-11-30'. */
  version: string;
  /** LiteLLM provider name → our provider id, on top of liteLLMProviders. */
  providers?: Readonly<Record<string, string>>;
  /** Keep only some models (after mapping and normalising). */
  include?: (provider: string, model: string) => boolean;
}

export interface LiteLLMImport {
  catalog: PriceCatalog;
  /** Entries not imported, and why (not a chat model, unknown provider, no price). */
  skipped: { key: string; reason: string }[];
}

/** USD per token (a JSON number) as USD per million tokens, exactly, at the columns' 6 decimals. */
function perMillion(value: number): string {
  return roundDecimal(shiftDecimal(decimalFromNumber(value), 6), 6);
}

function perThousand(value: number): string {
  return roundDecimal(shiftDecimal(decimalFromNumber(value), 3), 6);
}

const costField = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;

/**
 * Reads LiteLLM's model price file (the format operators already keep up)
 * into a price catalog for syncPrices: one standard schedule per chat model,
 * a long-context row where the file has prices above 128k or 200k tokens,
 * and batch, flex and priority schedules where it has their prices. A cache
 * read or write without a price of its own is charged at the input rate, as
 * a provider without a cache discount bills it; a 1-hour cache write without
 * a price is left unpriced. Reasoning is billed as output, except where the
 * file gives the standard tier a reasoning price of its own.
 * Web search takes the medium search-context price per query.
 */
export function catalogFromLiteLLM(file: Readonly<Record<string, unknown>>, options: LiteLLMImportOptions): LiteLLMImport {
  const providers = { ...liteLLMProviders, ...options.providers };
  const prices: CatalogPrice[] = [];
  const skipped: LiteLLMImport['skipped'] = [];
  for (const [key, raw] of Object.entries(file)) {
    if (key === 'sample_spec') continue;
    if (!raw || typeof raw !== 'object') {
      skipped.push({ key, reason: 'not an object' });
      continue;
    }
    const entry = raw as LiteLLMModelEntry;
    if (entry.mode !== undefined && entry.mode !== 'chat' && entry.mode !== 'responses') {
      skipped.push({ key, reason: `mode ${entry.mode}` });
      continue;
    }
    const source = entry.litellm_provider;
    const provider = source === undefined ? undefined : providers[source];
    if (!source || !provider) {
      skipped.push({ key, reason: `provider ${source ?? '(none)'} is not mapped` });
      continue;
    }
    if (!costField(entry.input_cost_per_token) || !costField(entry.output_cost_per_token)) {
      skipped.push({ key, reason: 'no input or output price' });
      continue;
    }
    const name = normalizeModel(provider, key.startsWith(`${source}/`) ? key.slice(source.length + 1) : key);
    if (!name || (options.include && !options.include(provider, name))) {
      if (name) skipped.push({ key, reason: 'left out by include' });
      else skipped.push({ key, reason: 'no model name' });
      continue;
    }

    const base = (input: number, output: number, cached: unknown, write: unknown, write1h: unknown, reasoning?: unknown) => ({
      inputPerMtok: perMillion(input),
      outputPerMtok: perMillion(output),
      cachedInputPerMtok: perMillion(costField(cached) ? cached : input),
      cacheWritePerMtok: perMillion(costField(write) ? write : input),
      cacheWrite1hPerMtok: costField(write1h) ? perMillion(write1h) : null,
      reasoningPerMtok: perMillion(costField(reasoning) ? reasoning : output),
      webSearchPerK: costField(entry.search_context_cost_per_query?.search_context_size_medium)
        ? perThousand(entry.search_context_cost_per_query.search_context_size_medium)
        : null,
    });
    const row = (serviceTier: ServiceTier, rates: ReturnType<typeof base>, minContextTokens = 0): CatalogPrice => ({
      provider,
      model: name,
      effectiveFrom: options.effectiveFrom,
      serviceTier,
      minContextTokens,
      ...rates,
    });

    const standard = base(
      entry.input_cost_per_token,
      entry.output_cost_per_token,
      entry.cache_read_input_token_cost,
      entry.cache_creation_input_token_cost,
      entry.cache_creation_input_token_cost_above_1hr,
      entry.output_cost_per_reasoning_token,
    );
    prices.push(row('standard', standard));
    // Long-context rows: the file gives cache prices of their own only above
    // 200k; a 1-hour write above a threshold without one stays unpriced.
    const longContext = [
      {
        threshold: 128_001,
        input: entry.input_cost_per_token_above_128k_tokens,
        output: entry.output_cost_per_token_above_128k_tokens,
        cached: entry.cache_read_input_token_cost,
        write: entry.cache_creation_input_token_cost,
        write1h: undefined,
      },
      {
        threshold: 200_001,
        input: entry.input_cost_per_token_above_200k_tokens,
        output: entry.output_cost_per_token_above_200k_tokens,
        cached: entry.cache_read_input_token_cost_above_200k_tokens ?? entry.cache_read_input_token_cost,
        write: entry.cache_creation_input_token_cost_above_200k_tokens ?? entry.cache_creation_input_token_cost,
        write1h: entry.cache_creation_input_token_cost_above_1hr_above_200k_tokens,
      },
    ];
    for (const { threshold, input, output, cached, write, write1h } of longContext) {
      if (costField(input) && costField(output)) prices.push(row('standard', base(input, output, cached, write, write1h), threshold));
    }
    const tiers: [ServiceTier, unknown, unknown, unknown][] = [
      ['batch', entry.input_cost_per_token_batches, entry.output_cost_per_token_batches, undefined],
      ['flex', entry.input_cost_per_token_flex, entry.output_cost_per_token_flex, entry.cache_read_input_token_cost_flex],
      ['priority', entry.input_cost_per_token_priority, entry.output_cost_per_token_priority, entry.cache_read_input_token_cost_priority],
    ];
    for (const [tier, input, output, cached] of tiers) {
      if (costField(input) && costField(output)) {
        // Without a cache price of the tier's own, cache reads cost what the standard tier charges.
        prices.push(row(tier, base(input, output, cached ?? entry.cache_read_input_token_cost, entry.cache_creation_input_token_cost, entry.cache_creation_input_token_cost_above_1hr)));
      }
    }
  }
  return { catalog: { version: options.version, prices }, skipped };
}
