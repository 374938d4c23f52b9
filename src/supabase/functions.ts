// The functions of the public schema that PostgREST exposes to `rpc`. Drizzle
// does not know about functions (they live in custom SQL migrations), so they
// are declared here once, in Postgres's own words: argument names and types,
// result type, and which API roles may execute them. The TypeScript types of
// `Database['public']['Functions']` are derived from this map, and
// tests/supabaseTypes.test.ts compares it with the migrated database, so a
// function added or changed in SQL without changing this map fails the tests.
import type { Json, PgEnums } from './database.js';

export type PgApiRole = 'anon' | 'authenticated' | 'service_role';

export interface RpcFunctionSpec {
  /** Argument names and types in order, as `format_type` prints them (`uuid`, `bigint`, `text[]`). */
  readonly args: Readonly<Record<string, string>>;
  /** Arguments that have a default and may be left out. */
  readonly optional?: readonly string[];
  /** The result as `pg_get_function_result` prints it: `jsonb`, `SETOF user_quotas`, `TABLE(a integer, b text)`. */
  readonly returns: string;
  /** The roles that hold EXECUTE (service_role always does on Supabase). */
  readonly executableBy: readonly PgApiRole[];
}

/**
 * Every function in `public`. Keep the keys sorted; add a function here in the
 * same change as its migration.
 */
export const rpcFunctionSpecs = {
  accept_invitation: {
    args: { p_token: 'text' },
    returns: 'uuid',
    executableBy: ['authenticated'],
  },
  ack_notification: {
    args: { p_id: 'bigint', p_claim_id: 'uuid' },
    returns: 'boolean',
    executableBy: ['service_role'],
  },
  claim_notifications: {
    args: { p_batch: 'integer', p_visibility: 'interval' },
    optional: ['p_batch', 'p_visibility'],
    returns: 'TABLE(id bigint, claim_id uuid, attempts smallint, user_id uuid, kind notification_kind, quota_limit quota_limit, threshold_percent smallint, period_start timestamp with time zone, used numeric, limit_value numeric, created_at timestamp with time zone)',
    executableBy: ['service_role'],
  },
  close_idle_sessions: {
    args: { p_idle: 'interval' },
    returns: 'integer',
    executableBy: ['service_role'],
  },
  create_organisation: {
    args: { p_name: 'text' },
    returns: 'uuid',
    executableBy: ['authenticated'],
  },
  expire_quota_reservations: {
    args: {},
    returns: 'integer',
    executableBy: ['service_role'],
  },
  fail_notification: {
    args: { p_id: 'bigint', p_claim_id: 'uuid', p_error: 'text' },
    returns: 'boolean',
    executableBy: ['service_role'],
  },
  get_grant_balances: {
    args: { p_user_id: 'uuid', p_organisation_id: 'uuid' },
    optional: ['p_user_id', 'p_organisation_id'],
    returns: 'TABLE(grant_id uuid, priority smallint, reason text, starts_at timestamp with time zone, expires_at timestamp with time zone, tokens bigint, tokens_remaining bigint, cost_usd numeric, cost_remaining_usd numeric)',
    executableBy: ['authenticated', 'service_role'],
  },
  get_monthly_usage: {
    args: { p_user_id: 'uuid', p_month: 'date' },
    optional: ['p_user_id', 'p_month'],
    returns: 'TABLE(provider text, model text, agent_mode agent_mode, request_count bigint, success_count bigint, error_count bigint, cancelled_count bigint, unpriced_count bigint, input_tokens bigint, output_tokens bigint, cached_input_tokens bigint, cache_write_tokens bigint, reasoning_tokens bigint, total_tokens bigint, cost_usd numeric, cache_write_1h_tokens bigint, web_search_requests bigint, tool_requests bigint, byok_cost_usd numeric)',
    executableBy: ['authenticated', 'service_role'],
  },
  get_organisation_quota_status: {
    args: { p_organisation_id: 'uuid', p_user_id: 'uuid' },
    optional: ['p_user_id'],
    returns: 'TABLE(organisation_id uuid, tier_id text, period_start timestamp with time zone, period_end timestamp with time zone, monthly_token_limit bigint, grant_tokens bigint, tokens_used bigint, tokens_reserved bigint, tokens_remaining bigint, monthly_cost_limit_usd numeric, grant_cost_usd numeric, cost_used_usd numeric, cost_reserved_usd numeric, cost_remaining_usd numeric, daily_request_limit integer, requests_today bigint, requests_reserved bigint, requests_remaining bigint, soft_limit_percent smallint, soft_limit_reached boolean, hard_limit_reached boolean, member_user_id uuid, member_role organisation_role, member_token_cap bigint, member_tokens_used bigint, member_tokens_reserved bigint, member_tokens_remaining bigint, member_cost_cap_usd numeric, member_cost_used_usd numeric, member_cost_reserved_usd numeric, member_cost_remaining_usd numeric, requests_per_minute integer, tokens_per_minute bigint)',
    executableBy: ['authenticated', 'service_role'],
  },
  get_quota_status: {
    args: { p_user_id: 'uuid' },
    optional: ['p_user_id'],
    returns: 'TABLE(user_id uuid, tier_id text, period_start timestamp with time zone, period_end timestamp with time zone, monthly_token_limit bigint, tokens_used bigint, tokens_reserved bigint, tokens_remaining bigint, tokens_percent numeric, monthly_cost_limit_usd numeric, cost_used_usd numeric, cost_reserved_usd numeric, cost_remaining_usd numeric, cost_percent numeric, daily_request_limit integer, requests_today bigint, requests_reserved bigint, requests_remaining bigint, soft_limit_percent smallint, soft_limit_reached boolean, hard_limit_reached boolean, grant_tokens bigint, grant_cost_usd numeric)',
    executableBy: ['authenticated', 'service_role'],
  },
  invite_member: {
    args: { p_organisation_id: 'uuid', p_email: 'text', p_role: 'organisation_role', p_ttl: 'interval' },
    optional: ['p_role', 'p_ttl'],
    returns: 'TABLE(invitation_id uuid, token text, expires_at timestamp with time zone)',
    executableBy: ['authenticated'],
  },
  purge_audit_log: {
    args: { p_older_than: 'interval' },
    returns: 'integer',
    executableBy: ['service_role'],
  },
  purge_notifications: {
    args: { p_older_than: 'interval', p_batch_size: 'integer', p_undelivered_older_than: 'interval' },
    optional: ['p_batch_size', 'p_undelivered_older_than'],
    returns: 'integer',
    executableBy: ['service_role'],
  },
  purge_usage_events: {
    args: { p_older_than: 'interval', p_batch_size: 'integer' },
    optional: ['p_batch_size'],
    returns: 'integer',
    executableBy: ['service_role'],
  },
  record_adjustment: {
    args: { p_event_id: 'bigint', p_idempotency_key: 'text', p_reason: 'text', p_input_tokens: 'bigint', p_output_tokens: 'bigint', p_cached_input_tokens: 'bigint', p_cache_write_tokens: 'bigint', p_reasoning_tokens: 'bigint', p_cost_usd: 'numeric', p_cache_write_1h_tokens: 'bigint', p_web_search_requests: 'integer', p_tool_requests: 'integer' },
    optional: ['p_input_tokens', 'p_output_tokens', 'p_cached_input_tokens', 'p_cache_write_tokens', 'p_reasoning_tokens', 'p_cost_usd', 'p_cache_write_1h_tokens', 'p_web_search_requests', 'p_tool_requests'],
    returns: 'TABLE(event_id bigint, duplicate boolean, total_tokens bigint, cost_usd numeric)',
    executableBy: ['service_role'],
  },
  record_usage: {
    args: { p_user_id: 'uuid', p_idempotency_key: 'text', p_provider: 'text', p_model: 'text', p_agent_mode: 'agent_mode', p_input_tokens: 'bigint', p_output_tokens: 'bigint', p_cached_input_tokens: 'bigint', p_cache_write_tokens: 'bigint', p_reasoning_tokens: 'bigint', p_status: 'usage_status', p_cost_usd: 'numeric', p_latency_ms: 'integer', p_session_id: 'uuid', p_message_id: 'bigint', p_reservation_id: 'uuid', p_error_code: 'text', p_occurred_at: 'timestamp with time zone', p_cache_write_1h_tokens: 'bigint', p_web_search_requests: 'integer', p_tool_requests: 'integer', p_service_tier: 'service_tier', p_byok: 'boolean', p_organisation_id: 'uuid' },
    optional: ['p_input_tokens', 'p_output_tokens', 'p_cached_input_tokens', 'p_cache_write_tokens', 'p_reasoning_tokens', 'p_status', 'p_cost_usd', 'p_latency_ms', 'p_session_id', 'p_message_id', 'p_reservation_id', 'p_error_code', 'p_occurred_at', 'p_cache_write_1h_tokens', 'p_web_search_requests', 'p_tool_requests', 'p_service_tier', 'p_byok', 'p_organisation_id'],
    returns: 'TABLE(event_id bigint, duplicate boolean, cost_usd numeric, cost_source cost_source, total_tokens bigint)',
    executableBy: ['service_role'],
  },
  release_quota: {
    args: { p_user_id: 'uuid', p_reservation_id: 'uuid' },
    returns: 'boolean',
    executableBy: ['service_role'],
  },
  remove_member: {
    args: { p_organisation_id: 'uuid', p_user_id: 'uuid' },
    returns: 'boolean',
    executableBy: ['authenticated'],
  },
  reserve_quota: {
    args: { p_user_id: 'uuid', p_idempotency_key: 'text', p_estimated_tokens: 'bigint', p_estimated_cost_usd: 'numeric', p_ttl: 'interval', p_organisation_id: 'uuid', p_provider: 'text', p_model: 'text' },
    optional: ['p_estimated_cost_usd', 'p_ttl', 'p_organisation_id', 'p_provider', 'p_model'],
    returns: 'TABLE(granted boolean, reason text, reservation_id uuid, expires_at timestamp with time zone, tokens_remaining bigint, cost_remaining_usd numeric, requests_remaining bigint, retry_after_ms bigint)',
    executableBy: ['service_role'],
  },
  revoke_invitation: {
    args: { p_invitation_id: 'uuid' },
    returns: 'boolean',
    executableBy: ['authenticated'],
  },
  run_maintenance: {
    args: {},
    returns: 'jsonb',
    executableBy: ['service_role'],
  },
  session_latency: {
    args: { p_session_id: 'uuid' },
    returns: 'TABLE(latency_count integer, avg_ms numeric, p95_ms double precision)',
    executableBy: ['authenticated', 'service_role'],
  },
  set_default_member_caps: {
    args: { p_organisation_id: 'uuid', p_monthly_tokens: 'bigint', p_monthly_cost_usd: 'numeric' },
    optional: ['p_monthly_tokens', 'p_monthly_cost_usd'],
    returns: 'boolean',
    executableBy: ['authenticated'],
  },
  set_member_caps: {
    args: { p_organisation_id: 'uuid', p_user_id: 'uuid', p_monthly_tokens: 'bigint', p_monthly_cost_usd: 'numeric' },
    optional: ['p_monthly_tokens', 'p_monthly_cost_usd'],
    returns: 'boolean',
    executableBy: ['authenticated'],
  },
  set_member_role: {
    args: { p_organisation_id: 'uuid', p_user_id: 'uuid', p_role: 'organisation_role' },
    returns: 'boolean',
    executableBy: ['authenticated'],
  },
} as const satisfies Record<string, RpcFunctionSpec>;

/** A Postgres type name as its JSON value through PostgREST. */
export type PgTypeToWire<T extends string> = T extends `${infer Element}[]`
  ? PgTypeToWire<Element>[]
  : T extends 'uuid' | 'text' | 'character varying' | 'date' | 'interval'
    ? string
    : T extends `timestamp${string}` | `time${string}`
      ? string
      : T extends 'integer' | 'smallint' | 'bigint' | 'numeric' | 'real' | 'double precision' | `numeric(${string})`
        ? number
        : T extends 'boolean'
          ? boolean
          : T extends 'json' | 'jsonb'
            ? Json
            : T extends 'void'
              ? undefined
              : PgEnumOf<T>;

/**
 * An enum type of `public` (as `format_type` prints it: `agent_mode`, or
 * `public.agent_mode` outside the search path) as its values; any other type
 * name is `unknown`.
 */
export type PgEnumOf<T extends string> = T extends keyof PgEnums
  ? PgEnums[T]
  : T extends `public.${infer Name extends keyof PgEnums}`
    ? PgEnums[Name]
    : unknown;

type Trim<S extends string> = S extends ` ${infer R}` ? Trim<R> : S extends `${infer R} ` ? Trim<R> : S;

/**
 * The columns of a `TABLE(...)` result and their SQL types:
 * `TABLE(a integer, b text)` → `{ a: 'integer'; b: 'text' }` (column types
 * have no commas inside, as `pg_get_function_result` prints them). Any other
 * result has no columns.
 */
export type ResultColumnTypes<R extends string> = R extends `TABLE(${infer Columns})` ? Flatten<ColumnTypes<Columns>> : {};
type ColumnTypes<S extends string> = S extends `${infer First}, ${infer Rest}`
  ? ColumnType<First> & ColumnTypes<Rest>
  : ColumnType<S>;
type ColumnType<S extends string> = Trim<S> extends `${infer Name} ${infer Type}` ? { [K in Name]: Type } : {};

/** The names of a function's result columns (none unless it returns `TABLE(...)`). */
export type ResultColumnOf<F extends RpcFunctionSpec> = keyof ResultColumnTypes<F['returns']> & string;

/** For each function, the result columns that may be null. */
export type NullableColumnsFor<Specs extends Record<string, RpcFunctionSpec>> = {
  readonly [Name in keyof Specs]?: readonly ResultColumnOf<Specs[Name]>[];
};

/**
 * The result columns that may be null, from each function's SQL body.
 * Postgres keeps no NOT NULL for the columns of a function's `TABLE(...)`
 * result, so this cannot be read from the catalog: a column not listed here
 * is never null. `Database['public']['Functions']` and `callFunction`
 * (src/rpc.ts) both take their nullability from this map, and
 * `callFunction` checks every row it reads against it. Scalar results are
 * never null.
 */
export const rpcNullableColumns = {
  // A model without a price: the cost is unknown.
  record_usage: ['cost_usd'],
  // A refusal holds nothing (a spent key names its reservation, which may be settled).
  reserve_quota: ['reservation_id', 'expires_at', 'retry_after_ms'],
  // A member's caps may be none (null), and then nothing remains to count.
  get_organisation_quota_status: ['member_user_id', 'member_role', 'member_token_cap', 'member_tokens_remaining', 'member_cost_cap_usd', 'member_cost_remaining_usd', 'requests_per_minute', 'tokens_per_minute'],
  // A grant may be of tokens, of USD or both.
  get_grant_balances: ['tokens', 'tokens_remaining', 'cost_usd', 'cost_remaining_usd'],
  // No message of the session has a latency yet.
  session_latency: ['avg_ms', 'p95_ms'],
} as const satisfies NullableColumnsFor<typeof rpcFunctionSpecs>;

type Flatten<T> = { [K in keyof T]: T[K] };

type NullableOf<Nullable, Name> = Name extends keyof Nullable
  ? Nullable[Name] extends readonly (infer Column)[]
    ? Column
    : never
  : never;

type ReturnsOf<R extends string, NullableColumns> = R extends `SETOF ${infer Element}`
  ? PgTypeToWire<Element>[]
  : R extends `TABLE(${string})`
    ? {
        [K in keyof ResultColumnTypes<R>]:
          | PgTypeToWire<ResultColumnTypes<R>[K] & string>
          | (K extends NullableColumns ? null : never);
      }[]
    : PgTypeToWire<R>;

type OptionalOf<F> = F extends { optional: readonly (infer O)[] } ? O : never;

// A function without arguments takes no keys at all, as supabase-js expects
// (it tells such functions apart by `Record<PropertyKey, never>`; `{}` would
// accept any object).
type ArgsOf<F extends RpcFunctionSpec> = keyof F['args'] extends never ? Record<PropertyKey, never> : NamedArgsOf<F>;

type NamedArgsOf<F extends RpcFunctionSpec> = Flatten<
  {
    -readonly [K in keyof F['args'] as K extends OptionalOf<F> ? never : K]: PgTypeToWire<F['args'][K]>;
  } & {
    -readonly [K in keyof F['args'] as K extends OptionalOf<F> ? K : never]?: PgTypeToWire<F['args'][K]>;
  }
>;

/** `Database['public']['Functions']` for a map of specs and their nullable result columns. */
export type FunctionsOf<Specs extends Record<string, RpcFunctionSpec>, Nullable extends NullableColumnsFor<Specs> = {}> = {
  [Name in keyof Specs]: {
    Args: ArgsOf<Specs[Name]>;
    Returns: ReturnsOf<Specs[Name]['returns'], NullableOf<Nullable, Name>>;
  };
};

export type RpcFunctions = FunctionsOf<typeof rpcFunctionSpecs, typeof rpcNullableColumns>;
