// Rows that tests need as their starting point, written as the migrating
// role (which bypasses RLS and the API roles' column grants), so a test
// states what it needs rather than how a row is inserted. A test whose
// subject is an insert itself (a refusal, an attack) writes its own statement.
import type { AgentMode, SessionStatus } from '../../src/schema/enums.js';
import { sql, type TestDatabase } from './database.js';

type Amount = number | string;

export interface PriceInput {
  provider: string;
  model: string;
  /** When the price takes effect; now when left out. */
  effectiveFrom?: string | Date;
  /** USD per million tokens. */
  inputPerMtok: Amount;
  outputPerMtok: Amount;
  /** The three below are 0 when left out. */
  cachedInputPerMtok?: Amount;
  cacheWritePerMtok?: Amount;
  reasoningPerMtok?: Amount;
}

/** Adds a model price; returns its id. The provider must exist. */
export async function addPrice(t: TestDatabase, price: PriceInput): Promise<number> {
  const from = price.effectiveFrom === undefined ? sql`now()` : sql`${price.effectiveFrom instanceof Date ? price.effectiveFrom.toISOString() : price.effectiveFrom}::timestamptz`;
  const amount = (value: Amount | undefined) => sql`${String(value ?? 0)}::numeric`;
  const [row] = await t.rows<{ id: string }>(sql`insert into public.model_prices
      (provider, model, effective_from, input_per_mtok, output_per_mtok, cached_input_per_mtok, cache_write_per_mtok, reasoning_per_mtok)
    values (${price.provider}, ${price.model}, ${from}, ${amount(price.inputPerMtok)}, ${amount(price.outputPerMtok)},
            ${amount(price.cachedInputPerMtok)}, ${amount(price.cacheWritePerMtok)}, ${amount(price.reasoningPerMtok)})
    returning id`);
  return Number(row!.id);
}

export interface TestSessionOptions {
  /** 'debug' when left out. */
  agentMode?: AgentMode;
  title?: string;
  /** 'active' when left out; any other status ends the session (now, unless `endedAt` says when). */
  status?: SessionStatus;
  endedAt?: Date;
}

/** Starts a session of `userId` directly in the table; returns its id. */
export async function startTestSession(t: TestDatabase, userId: string, options: TestSessionOptions = {}): Promise<string> {
  const status = options.status ?? 'active';
  const endedAt = status === 'active' ? sql`null` : options.endedAt ? sql`${options.endedAt.toISOString()}::timestamptz` : sql`now()`;
  const [row] = await t.rows<{ id: string }>(sql`insert into public.agent_sessions (user_id, agent_mode, title, status, ended_at)
    values (${userId}::uuid, ${options.agentMode ?? 'debug'}::public.agent_mode, ${options.title ?? null},
            ${status}::public.session_status, ${endedAt})
    returning id`);
  return row!.id;
}

/**
 * Moves a user's recorded usage `days` into the past, as time passing would:
 * their events (when they happened and when they were recorded) and their
 * daily totals. record_usage refuses requests older than its backdating
 * limit, so a test that needs last year's usage records it now and ages it.
 * Daily rows must not already exist at the target days.
 */
export async function ageUsage(t: TestDatabase, userId: string, days: number): Promise<void> {
  const by = sql`make_interval(days => ${days}::int)`;
  await t.rows(sql`update public.ai_usage_events set occurred_at = occurred_at - ${by}, created_at = created_at - ${by}
    where user_id = ${userId}::uuid`);
  await t.rows(sql`update public.ai_usage_daily set date = date - ${by} where user_id = ${userId}::uuid`);
}
