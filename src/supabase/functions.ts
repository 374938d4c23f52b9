// The functions of the public schema that PostgREST exposes to `rpc`. Drizzle
// does not know about functions (they live in custom SQL migrations), so they
// are declared here once, in Postgres's own words: argument names and types,
// result type, and which API roles may execute them. The TypeScript types of
// `Database['public']['Functions']` are derived from this map, and
// tests/supabaseTypes.test.ts compares it with the migrated database, so a
// function added or changed in SQL without changing this map fails the tests.
import type { Json } from './database.js';

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
export const rpcFunctionSpecs = {} as const satisfies Record<string, RpcFunctionSpec>;

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
              : unknown;

type Trim<S extends string> = S extends ` ${infer R}` ? Trim<R> : S extends `${infer R} ` ? Trim<R> : S;

/** `a integer, b text` → `{ a: number; b: string }` (column types without commas inside). */
type TableColumns<S extends string> = S extends `${infer First}, ${infer Rest}`
  ? TableColumn<First> & TableColumns<Rest>
  : TableColumn<S>;
type TableColumn<S extends string> = Trim<S> extends `${infer Name} ${infer Type}` ? { [K in Name]: PgTypeToWire<Type> } : {};

type Flatten<T> = { [K in keyof T]: T[K] };

type ReturnsOf<R extends string> = R extends `SETOF ${infer Element}`
  ? PgTypeToWire<Element>[]
  : R extends `TABLE(${infer Columns})`
    ? Flatten<TableColumns<Columns>>[]
    : PgTypeToWire<R>;

type OptionalOf<F> = F extends { optional: readonly (infer O)[] } ? O : never;

type ArgsOf<F extends RpcFunctionSpec> = Flatten<
  {
    [K in keyof F['args'] as K extends OptionalOf<F> ? never : K]: PgTypeToWire<F['args'][K]>;
  } & {
    [K in keyof F['args'] as K extends OptionalOf<F> ? K : never]?: PgTypeToWire<F['args'][K]>;
  }
>;

/** `Database['public']['Functions']` for a map of specs. */
export type FunctionsOf<Specs extends Record<string, RpcFunctionSpec>> = {
  [Name in keyof Specs]: { Args: ArgsOf<Specs[Name]>; Returns: ReturnsOf<Specs[Name]['returns']> };
};

export type RpcFunctions = FunctionsOf<typeof rpcFunctionSpecs>;
