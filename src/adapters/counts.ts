import { decimalFromNumber, roundDecimal } from '../pricing/decimal.js';
import { ProviderUsageError } from './contract.js';

// Checks shared by the provider adapters. Each takes the provider id (for the
// error) and the path of the figure in the provider's payload, so that a
// refusal names exactly what the provider sent.

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  return Array.isArray(value) ? 'a list' : typeof value;
}

/**
 * A token or request count as the provider reported it, or undefined when
 * the provider left it out (undefined or null). A count that is present
 * must be a non-negative safe integer: anything else is refused.
 */
export function optionalCount(provider: string, value: unknown, path: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number') throw new ProviderUsageError(provider, path, `is not a number (${describe(value)})`);
  if (!Number.isFinite(value)) throw new ProviderUsageError(provider, path, `is not a finite number (${value})`);
  if (!Number.isInteger(value)) throw new ProviderUsageError(provider, path, `is not a whole number (${value})`);
  if (value < 0) throw new ProviderUsageError(provider, path, `is negative (${value})`);
  if (!Number.isSafeInteger(value)) throw new ProviderUsageError(provider, path, `is too large to count exactly (${value})`);
  return value;
}

/**
 * A count the adapter needs: a required one (a total) must be present, an
 * optional one (a detail of a total) is 0 when the provider left it out.
 */
export function count(provider: string, value: unknown, path: string, required: boolean): number {
  const n = optionalCount(provider, value, path);
  if (n !== undefined) return n;
  if (required) throw new ProviderUsageError(provider, path, 'is missing');
  return 0;
}

/** Refuses a detail larger than the total it is part of, rather than record a negative remainder. */
export function notLarger(provider: string, part: number, partPath: string, whole: number, wholePath: string): void {
  if (part > whole) throw new ProviderUsageError(provider, partPath, `is larger than ${wholePath} (${part} > ${whole})`);
}

/**
 * Refuses a total the provider reported that is not the sum of the parts
 * read from the same payload (named by their paths). The sum is taken
 * exactly, whatever its size.
 */
export function checkSum(provider: string, reported: number, reportedPath: string, parts: Readonly<Record<string, number>>): void {
  const names = Object.keys(parts);
  const sum = Object.values(parts).reduce((a, b) => a + BigInt(b), 0n);
  if (sum !== BigInt(reported)) {
    throw new ProviderUsageError(provider, reportedPath, `is ${reported}, not the sum of its parts (${names.join(' + ')} = ${sum})`);
  }
}

/** Decimals kept of a cost the provider reported (those of the cost columns). */
const costDecimals = 10;

/**
 * A cost in USD that the provider reported as a JSON number, as an exact
 * decimal string of at most 10 decimals. Missing, not a finite number, or
 * negative: refused (a cost the provider always sends is never taken as 0).
 */
export function costUsd(provider: string, value: unknown, path: string): string {
  if (value === undefined || value === null) throw new ProviderUsageError(provider, path, 'is missing');
  if (typeof value !== 'number') throw new ProviderUsageError(provider, path, `is not a number (${describe(value)})`);
  if (!Number.isFinite(value)) throw new ProviderUsageError(provider, path, `is not a finite number (${value})`);
  if (value < 0) throw new ProviderUsageError(provider, path, `is negative (${value})`);
  // Taken as the number's shortest spelling ('1.2e-7' is 0.00000012), never through float arithmetic.
  return roundDecimal(decimalFromNumber(value === 0 ? 0 : value), costDecimals);
}

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
