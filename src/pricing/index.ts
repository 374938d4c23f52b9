// Prices: the shipped catalog, loading a catalog into model_prices, the
// LiteLLM importer, model names and exact decimals.
export { priceCatalog } from './catalog.js';
export type { CatalogPrice, CatalogProvider, PriceCatalog } from './catalog.js';
export { syncPrices } from './sync.js';
export type { SyncPricesResult } from './sync.js';
export { catalogFromLiteLLM, liteLLMProviders } from './litellm.js';
export type { LiteLLMImport, LiteLLMImportOptions, LiteLLMModelEntry } from './litellm.js';
export { normalizeModel } from './models.js';
export { decimalFromNumber, multiplyDecimal, normalizeDecimal, roundDecimal, shiftDecimal } from './decimal.js';
