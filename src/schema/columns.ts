import { bigint, integer, numeric, timestamp } from 'drizzle-orm/pg-core';

// Every timestamp is a point in time: timestamptz, never a wall-clock time.
export const timestamptz = () => timestamp({ withTimezone: true, mode: 'date' });

// Rows say when they were made and last changed; the database sets both
// (updated_at by the `set_updated_at` trigger, on agent_sessions by its
// life-cycle trigger or the function that wrote the row), so callers cannot
// forge them.
export const timestamps = {
  createdAt: timestamptz().notNull().defaultNow(),
  updatedAt: timestamptz().notNull().defaultNow(),
};

// Token counters are bigint: a busy user's monthly total overflows int4.
// JavaScript numbers hold them exactly up to 2^53.
// A column whose SQL name Drizzle's casing would spell wrong (a number after
// a letter: cache_write_1h_tokens) takes its name here.
export const tokenCount = (name?: string) =>
  (name === undefined ? bigint({ mode: 'number' }) : bigint(name, { mode: 'number' })).notNull().default(0);

// Counts of rows or requests that stay far below 2^31.
export const counter = () => integer().notNull().default(0);

// Money is exact: numeric with ten decimals, enough for one token of the
// cheapest model ($0.01 per million tokens is 1e-8 per token). Read as a
// string so no float ever touches it.
export const usd = () => numeric({ precision: 20, scale: 10 });

// Money that adds up many rows (daily totals, sessions): numeric without a
// precision, so no sum can overflow it; its parts have ten decimals at most.
export const usdTotal = () => numeric();

// Prices are quoted in USD per million tokens.
export const usdPerMillionTokens = (name?: string) =>
  name === undefined ? numeric({ precision: 14, scale: 6 }) : numeric(name, { precision: 14, scale: 6 });

// Billable extras that are not tokens (web searches, tool calls) are quoted
// in USD per thousand.
export const usdPerThousand = () => numeric({ precision: 14, scale: 6 });
