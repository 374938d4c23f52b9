import { sql } from 'drizzle-orm';
import { z } from 'zod';
import type { DbOrTx } from '../db.js';
import { parseInput, ValidationError, withInputErrors } from '../errors.js';
import { aiProviders, modelPrices } from '../schema/aiUsage.js';
import { serviceTiers, type ServiceTier } from '../schema/enums.js';
import { limits, messages } from '../schema/limits.js';
import type { PriceCatalog } from './catalog.js';
import { normalizeDecimal } from './decimal.js';
import { normalizeModel } from './models.js';
import { modelName, providerId } from '../validation/usage.js';

// A rate: a decimal string with at most 6 decimals (the columns' scale), so
// that what is stored is exactly what the catalog says.
const rate = (max: number, message: string) =>
  z
    .string()
    .regex(/^\d{1,10}(\.\d{1,6})?$/, `${message}, as a decimal string with at most 6 decimals`)
    .refine((v) => Number(v) <= max, message);
const tokenRate = rate(limits.pricePerMtokUsd, messages.price);
const extraRate = rate(limits.pricePerThousandUsd, messages.pricePerThousand);


const catalogInput = z
  .object({
    version: z.string().min(1).max(limits.priceSourceLength, `must be 1 to ${limits.priceSourceLength} characters`),
    providers: z
      .array(
        z
          .object({
            id: providerId,
            displayName: z.string().min(1).max(100, 'must be 1 to 100 characters'),
            isLocal: z.boolean().default(false),
          })
          .strict(),
      )
      .default([]),
    prices: z.array(
      z
        .object({
          provider: providerId,
          model: modelName,
          aliases: z.array(modelName).default([]),
          effectiveFrom: z.string().refine((v) => !Number.isNaN(Date.parse(v)), 'must be an ISO date or timestamp'),
          serviceTier: z.enum(serviceTiers, 'must be one of standard, batch, flex, priority').default('standard'),
          minContextTokens: z.number().int().min(0).max(3 * limits.tokensPerRequest).default(0),
          inputPerMtok: tokenRate,
          cachedInputPerMtok: tokenRate,
          cacheWritePerMtok: tokenRate,
          cacheWrite1hPerMtok: tokenRate.nullish(),
          outputPerMtok: tokenRate,
          reasoningPerMtok: tokenRate,
          webSearchPerK: extraRate.nullish(),
          toolRequestPerK: extraRate.nullish(),
        })
        .strict(),
    ),
  })
  .strict();

/** The rates of one price row, in their shortest decimal form; null where the row has none. */
interface RowRates {
  minContextTokens: number;
  inputPerMtok: string;
  cachedInputPerMtok: string;
  cacheWritePerMtok: string;
  cacheWrite1hPerMtok: string | null;
  outputPerMtok: string;
  reasoningPerMtok: string;
  webSearchPerK: string | null;
  toolRequestPerK: string | null;
}

const rateKeys = [
  'inputPerMtok',
  'cachedInputPerMtok',
  'cacheWritePerMtok',
  'cacheWrite1hPerMtok',
  'outputPerMtok',
  'reasoningPerMtok',
  'webSearchPerK',
  'toolRequestPerK',
] as const;

/** One schedule: the rows of one provider, model and tier that take effect together. */
interface Schedule {
  provider: string;
  model: string;
  serviceTier: ServiceTier;
  effectiveFrom: Date;
  rows: RowRates[];
  /** Where in the catalog it came from, for errors. */
  at: string;
}

const scheduleKey = (s: Pick<Schedule, 'provider' | 'model' | 'serviceTier'>) => `${s.provider}\u0000${s.model}\u0000${s.serviceTier}`;

function sameSchedule(a: readonly RowRates[], b: readonly RowRates[]): boolean {
  if (a.length !== b.length) return false;
  const byThreshold = new Map(b.map((r) => [r.minContextTokens, r]));
  return a.every((r) => {
    const other = byThreshold.get(r.minContextTokens);
    return other !== undefined && rateKeys.every((k) => r[k] === other[k]);
  });
}

export interface SyncPricesResult {
  /** Price rows added (one per changed schedule row, model and alias). */
  inserted: number;
  /** Catalog schedules already in force at their date, left as they are. */
  unchanged: number;
  /** Providers the catalog named that the database did not have yet. */
  providersAdded: number;
}

/**
 * Loads a price catalog into model_prices, idempotently: for each schedule
 * of the catalog (a model's rows for one service tier from one date), when
 * the schedule in force at that date already has the same rates, nothing is
 * written; otherwise its rows are added, dated, with the catalog's version as
 * their source. Rows already there are never updated or deleted, so every
 * event keeps the price it was charged at. A catalog that gives other rates
 * for a date the database already has a schedule for is refused (a changed
 * price needs a new date). Aliases get rows of their own, and model names
 * are normalised as record_usage normalises them.
 *
 * Runs in one transaction (a savepoint when `db` is one already), one
 * caller at a time; service_role or the owner.
 */
export async function syncPrices(db: DbOrTx, catalog: PriceCatalog): Promise<SyncPricesResult> {
  const v = parseInput(catalogInput, catalog);
  const schedules = new Map<string, Schedule>();
  v.prices.forEach((p, index) => {
    const at = `prices.${index}`;
    const effectiveFrom = new Date(p.effectiveFrom);
    const row: RowRates = {
      minContextTokens: p.minContextTokens,
      ...Object.fromEntries(rateKeys.map((k) => [k, p[k] == null ? null : normalizeDecimal(p[k])])),
    } as RowRates;
    for (const name of new Set([p.model, ...p.aliases].map((m) => normalizeModel(p.provider, m)))) {
      if (name.length === 0) throw new ValidationError(`${at}.model`, messages.model);
      const key = `${scheduleKey({ provider: p.provider, model: name, serviceTier: p.serviceTier })}\u0000${effectiveFrom.toISOString()}`;
      const schedule = schedules.get(key) ?? {
        provider: p.provider,
        model: name,
        serviceTier: p.serviceTier,
        effectiveFrom,
        rows: [],
        at,
      };
      if (schedule.rows.some((r) => r.minContextTokens === row.minContextTokens)) {
        throw new ValidationError(
          `${at}.min_context_tokens`,
          `${p.provider}/${name} (${p.serviceTier}) has two rows from ${p.effectiveFrom} for prompts of ${row.minContextTokens} tokens`,
        );
      }
      schedule.rows.push(row);
      schedules.set(key, schedule);
    }
  });

  return withInputErrors(() =>
    db.transaction(async (tx) => {
      // One sync at a time: two would both see a schedule missing and add it twice.
      await tx.execute(sql`select pg_advisory_xact_lock(${sql.raw(syncLockKey)})`);

      let providersAdded = 0;
      if (v.providers.length > 0) {
        const added = await tx
          .insert(aiProviders)
          .values(v.providers.map((p) => ({ id: p.id, displayName: p.displayName, isLocal: p.isLocal })))
          .onConflictDoNothing()
          .returning({ id: aiProviders.id });
        providersAdded = added.length;
      }

      const existing = new Map<string, { effectiveFrom: Date; rows: RowRates[] }[]>();
      for (const r of await tx.select().from(modelPrices)) {
        const key = scheduleKey(r);
        const list = existing.get(key) ?? [];
        let schedule = list.find((s) => s.effectiveFrom.getTime() === r.effectiveFrom.getTime());
        if (!schedule) {
          schedule = { effectiveFrom: r.effectiveFrom, rows: [] };
          list.push(schedule);
        }
        schedule.rows.push({
          minContextTokens: r.minContextTokens,
          ...Object.fromEntries(rateKeys.map((k) => [k, r[k] == null ? null : normalizeDecimal(r[k])])),
        } as RowRates);
        existing.set(key, list);
      }

      let unchanged = 0;
      const added: (typeof modelPrices.$inferInsert)[] = [];
      for (const s of schedules.values()) {
        const list = existing.get(scheduleKey(s)) ?? [];
        const inForce = list
          .filter((e) => e.effectiveFrom.getTime() <= s.effectiveFrom.getTime())
          .sort((a, b) => b.effectiveFrom.getTime() - a.effectiveFrom.getTime())[0];
        if (inForce && sameSchedule(inForce.rows, s.rows)) {
          unchanged++;
          continue;
        }
        if (inForce && inForce.effectiveFrom.getTime() === s.effectiveFrom.getTime()) {
          throw new ValidationError(
            `${s.at}.effective_from`,
            `${s.provider}/${s.model} (${s.serviceTier}) already has other prices from ${s.effectiveFrom.toISOString()}: recorded prices are never rewritten, give the new prices a later date`,
          );
        }
        for (const r of s.rows) {
          added.push({ provider: s.provider, model: s.model, serviceTier: s.serviceTier, effectiveFrom: s.effectiveFrom, source: v.version, ...r });
        }
      }
      // One statement for every added row.
      if (added.length > 0) await tx.insert(modelPrices).values(added);
      const inserted = added.length;
      return { inserted, unchanged, providersAdded };
    }),
  );
}

// pg_advisory_xact_lock key of syncPrices: an arbitrary constant of this package.
const syncLockKey = '6298693524155036209';
