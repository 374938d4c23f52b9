import { ProviderUsageError } from './contract.js';

// What the Anthropic, Gemini and Ollama adapters check beyond the count
// checks of counts.ts: the model name, and sums of counts that must stay
// exact.

/** The sum of counts, refused (naming `field`) when it leaves the safe integer range. */
export function sumCounts(provider: string, field: string, ...counts: number[]): number {
  const sum = counts.reduce((total, count) => total + count, 0);
  if (!Number.isSafeInteger(sum)) throw new ProviderUsageError(provider, field, `adds up to more than ${Number.MAX_SAFE_INTEGER}`);
  return sum;
}

/** A model name that is a non-empty string, refused otherwise. */
export function requiredModel(provider: string, field: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ProviderUsageError(provider, field, value === undefined || value === null ? 'is missing' : 'must be a non-empty string');
  }
  return value;
}
