// Calling the SQL functions of `public` from TypeScript, typed from their
// declarations in src/supabase/functions.ts: arguments by name, each bound as
// a parameter and cast to its declared SQL type, and results decoded by their
// declared types. The typed queries (src/queries/) call their functions
// through here.
//
// Values are what the typed queries use, not what PostgREST sends:
// bigint, integer and smallint are numbers (exact up to 2^53, checked);
// numeric is an exact decimal string, never a float; timestamptz is a Date;
// enums are their values; json is `Json`; date and interval are strings as
// Postgres writes them ('2025-01-31', '5 minutes' or '00:05:00').
import { sql, type SQL } from 'drizzle-orm';
import { queryRows, type DbOrTx } from './db.js';
import * as schema from './schema/index.js';
import type { Json } from './supabase/database.js';
import {
  rpcFunctionSpecs,
  rpcNullableColumns,
  type PgEnumOf,
  type ResultColumnTypes,
  type RpcFunctionSpec,
} from './supabase/functions.js';

type Specs = typeof rpcFunctionSpecs;

/** The name of a function of `public`: a key of `rpcFunctionSpecs`. */
export type RpcName = keyof Specs;

/** A SQL type (as the specs spell it) as the TypeScript value passed in and read back. */
export type PgTypeToValue<T extends string> = T extends `${string}[]`
  ? never // arrays are not supported (no function takes or returns one)
  : T extends 'uuid' | 'text' | 'character varying' | 'date' | 'interval' | 'timestamp without time zone'
    ? string
    : T extends 'integer' | 'smallint' | 'bigint' | 'real' | 'double precision'
      ? number
      : T extends 'numeric' | `numeric(${string})`
        ? string
        : T extends 'timestamp with time zone'
          ? Date
          : T extends 'boolean'
            ? boolean
            : T extends 'json' | 'jsonb'
              ? Json
              : T extends 'void'
                ? undefined
                : PgEnumOf<T>;

type Flatten<T> = { [K in keyof T]: T[K] };
type OptionalArgOf<N extends RpcName> = Specs[N] extends { optional: readonly (infer O)[] } ? O : never;
type ArgTypes<N extends RpcName> = Specs[N]['args'];

/**
 * A function's arguments by name. Those with a default may be left out (or
 * be `undefined`): they are then not passed at all, and the SQL default applies.
 */
export type RpcArgs<N extends RpcName> = Flatten<
  {
    -readonly [K in keyof ArgTypes<N> as K extends OptionalArgOf<N> ? never : K]: PgTypeToValue<ArgTypes<N>[K] & string>;
  } & {
    -readonly [K in keyof ArgTypes<N> as K extends OptionalArgOf<N> ? K : never]?: PgTypeToValue<ArgTypes<N>[K] & string>;
  }
>;

type NullableColumnOf<N extends RpcName> = N extends keyof typeof rpcNullableColumns
  ? (typeof rpcNullableColumns)[N][number]
  : never;

/**
 * One row of a function returning `TABLE(...)`. A column is null only where
 * `rpcNullableColumns` says it may be: Postgres does not record whether a
 * result column can be null, so that map declares it, and every row read is
 * checked against it.
 */
export type RpcRow<N extends RpcName> = {
  [K in keyof ResultColumnTypes<Specs[N]['returns']>]:
    | PgTypeToValue<ResultColumnTypes<Specs[N]['returns']>[K] & string>
    | (K extends NullableColumnOf<N> ? null : never);
};

/** What `callFunction` returns: the rows of a `TABLE(...)` function, else its scalar value. */
export type RpcResult<N extends RpcName> = Specs[N]['returns'] extends `TABLE(${string})`
  ? RpcRow<N>[]
  : Specs[N]['returns'] extends `SETOF ${string}`
    ? never // not supported (no function returns a set of rows of a table)
    : PgTypeToValue<Specs[N]['returns']>;

type RequiredArgOf<N extends RpcName> = Exclude<keyof ArgTypes<N>, OptionalArgOf<N>>;

/** The argument list after the name: optional when every argument has a default. */
type ArgsParameter<N extends RpcName> = [RequiredArgOf<N>] extends [never] ? [args?: RpcArgs<N>] : [args: RpcArgs<N>];

/**
 * Calls a function of `public` with named arguments and decodes its result:
 *
 * ```ts
 * const [hold] = await callFunction(tx, 'reserve_quota', { p_user_id, p_idempotency_key: key, p_estimated_tokens: 8000 });
 * if (hold?.granted) hold.expires_at; // Date | null
 * ```
 *
 * Runs as one statement, `select * from public.<name>(p_a => $1::<type>, ...)`,
 * on the database or inside a transaction, with postgres.js or PGlite.
 * Database errors are passed on as they are (the typed queries translate
 * bad input into ValidationError with `withInputErrors`).
 */
export async function callFunction<N extends RpcName>(db: DbOrTx, name: N, ...[args]: ArgsParameter<N>): Promise<RpcResult<N>> {
  const spec = specOf(name);
  const given = Object.entries((args ?? {}) as Record<string, unknown>).filter(([, value]) => value !== undefined);
  for (const [arg] of given) {
    if (!Object.hasOwn(spec.args, arg)) throw new TypeError(`${name}: no argument named ${arg}`);
  }
  for (const arg of Object.keys(spec.args)) {
    if (!spec.optional?.includes(arg) && !given.some(([g]) => g === arg)) throw new TypeError(`${name}: ${arg} is required`);
  }
  // Arguments in the order the function declares them (named notation does
  // not need it, but the statement text is then the same for every call).
  const order = Object.keys(spec.args);
  given.sort(([a], [b]) => order.indexOf(a) - order.indexOf(b));
  const list = given.map(([arg, value]) => {
    const type = spec.args[arg]!;
    return sql`${sql.raw(arg)} => ${encodeArgument(name, arg, type, value)}${sql.raw(`::${castType(type)}`)}`;
  });
  const query: SQL = sql`select * from ${sql.raw(`public.${name}`)}(${sql.join(list, sql`, `)})`;
  const rows = await queryRows<Record<string, unknown>>(db, query);
  return resultDecoderOf(name, spec)(rows) as RpcResult<N>;
}

/**
 * The statement `callFunction` runs for these arguments, as text with `$1`,
 * `$2`, ... in the order given: for a caller that prepares it once and binds
 * the values itself (values as the driver sends them: Dates as ISO strings,
 * json as text).
 */
export function functionCallSql<N extends RpcName>(
  name: N,
  argNames: readonly (keyof ArgTypes<N> & string)[],
  constants: Partial<Record<keyof ArgTypes<N> & string, string | number | boolean>> = {},
): string {
  const spec = specOf(name);
  const typeOf = (arg: string) => {
    const type = spec.args[arg];
    if (type === undefined) throw new TypeError(`${name}: no argument named ${arg}`);
    return castType(type);
  };
  const list = argNames.map((arg, i) => `${arg} => $${i + 1}::${typeOf(arg)}`);
  // Values that never change between calls may be written into the statement,
  // as literals (quoted, cast to the declared type), instead of being sent each time.
  for (const [arg, value] of Object.entries(constants) as [string, string | number | boolean][]) {
    if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError(`${name}: ${arg} must be a finite number`);
    const literal = typeof value === 'string' ? `'${value.replaceAll("'", "''")}'` : String(value);
    list.push(`${arg} => ${literal}::${typeOf(arg)}`);
  }
  return `select * from public.${name}(${list.join(', ')})`;
}

// ---- building the call ----------------------------------------------------

const identifier = /^[a-z_][a-z0-9_]*$/;

/** Specs whose names were checked: a function is checked once, not on every call. */
const checkedSpecs = new Map<string, RpcFunctionSpec>();

function specOf(name: string): RpcFunctionSpec {
  const checked = checkedSpecs.get(name);
  if (checked) return checked;
  if (!Object.hasOwn(rpcFunctionSpecs, name)) throw new TypeError(`no function public.${name} is declared in rpcFunctionSpecs`);
  const spec = (rpcFunctionSpecs as Record<string, RpcFunctionSpec>)[name]!;
  // Names go into the statement as they are: only plain ones.
  for (const part of [name, ...Object.keys(spec.args)]) {
    if (!identifier.test(part)) throw new TypeError(`${name}: ${part} is not a plain SQL name`);
  }
  checkedSpecs.set(name, spec);
  return spec;
}

/** The SQL enums of the schema by name, with their values. */
const enumValues: ReadonlyMap<string, readonly string[]> = new Map(
  Object.values(schema as Record<string, unknown>)
    .filter((value): value is { enumName: string; enumValues: readonly string[] } => {
      const e = value as { enumName?: unknown; enumValues?: unknown } | null;
      return typeof value === 'function' && typeof e?.enumName === 'string' && Array.isArray(e.enumValues);
    })
    .map((e) => [e.enumName, e.enumValues]),
);

function enumName(type: string): string | undefined {
  const name = type.startsWith('public.') ? type.slice('public.'.length) : type;
  return enumValues.has(name) ? name : undefined;
}

/** The type to cast a parameter to: enums of `public` qualified, since functions run with an empty search_path. */
function castType(type: string): string {
  if (type.endsWith('[]')) throw new TypeError(`array arguments (${type}) are not supported`);
  const e = enumName(type);
  return e ? `public.${e}` : type;
}

function encodeArgument(name: string, arg: string, type: string, value: unknown): unknown {
  if (value === null) return null;
  if (type === 'timestamp with time zone') {
    if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new TypeError(`${name}: ${arg} must be a valid Date`);
    return value.toISOString();
  }
  if (type === 'json' || type === 'jsonb') return JSON.stringify(value);
  return value;
}

// ---- reading the result ---------------------------------------------------

type ResultDecoder = (rows: Record<string, unknown>[]) => unknown;

/** Each function's result decoder, built from its declared result the first time it is called. */
const resultDecoders = new Map<string, ResultDecoder>();

function resultDecoderOf(name: string, spec: RpcFunctionSpec): ResultDecoder {
  let decoder = resultDecoders.get(name);
  if (!decoder) {
    decoder = resultDecoder(name, spec);
    resultDecoders.set(name, decoder);
  }
  return decoder;
}

function resultDecoder(name: string, spec: RpcFunctionSpec): ResultDecoder {
  const table = /^TABLE\((.*)\)$/s.exec(spec.returns);
  if (table) {
    const nullable: readonly string[] = (rpcNullableColumns as Record<string, readonly string[]>)[name] ?? [];
    const columns = splitColumns(table[1]!).map(([column, type]) => ({
      column,
      decode: decoderFor(type),
      nullable: nullable.includes(column),
    }));
    return (rows) => rows.map((row) =>
      Object.fromEntries(
        columns.map(({ column, decode, nullable }) => {
          const value = row[column];
          if (value === undefined) throw new Error(`${name} returned no column ${column}`);
          if (value === null) {
            if (!nullable) throw new Error(`${name} returned null in ${column}, which rpcNullableColumns does not allow`);
            return [column, null];
          }
          return [column, decode(value, `${name}.${column}`)];
        }),
      ),
    );
  }
  if (spec.returns.startsWith('SETOF ')) throw new TypeError(`${name}: SETOF results are not supported`);
  if (spec.returns === 'void') return () => undefined;
  // A scalar function: one row, one column named after the function.
  const decode = decoderFor(spec.returns);
  return (rows) => {
    const row = rows[0];
    const value = row ? Object.values(row)[0] : undefined;
    if (value === null || value === undefined) throw new Error(`${name} returned null, which its declared result does not allow`);
    return decode(value, name);
  };
}

/** `a integer, b timestamp with time zone` → [['a', 'integer'], ['b', 'timestamp with time zone']]. */
function splitColumns(list: string): [string, string][] {
  return list.split(', ').map((part) => {
    const space = part.indexOf(' ');
    return [part.slice(0, space), part.slice(space + 1)];
  });
}

type Decoder = (value: unknown, where: string) => unknown;

/** How to read a non-null value of a SQL type, whichever driver read it (postgres.js and PGlite differ). */
function decoderFor(type: string): Decoder {
  switch (type) {
    case 'bigint':
    case 'integer':
    case 'smallint':
      return toSafeInteger;
    case 'real':
    case 'double precision':
      return (value, where) => toNumber(value, where);
    case 'numeric':
      return toDecimalString;
    case 'timestamp with time zone':
      return toDate;
    case 'boolean':
      return toBoolean;
    case 'json':
    case 'jsonb':
      return (value) => value as Json;
    case 'date':
      return (value) => (value instanceof Date ? value.toISOString().slice(0, 10) : String(value));
    default: {
      const e = enumName(type);
      if (e) {
        const values = enumValues.get(e)!;
        return (value, where) => {
          if (typeof value !== 'string' || !values.includes(value)) throw new Error(`${where}: ${String(value)} is not a value of ${e}`);
          return value;
        };
      }
      if (type.startsWith('numeric(')) return toDecimalString;
      if (type.endsWith('[]')) throw new TypeError(`array results (${type}) are not supported`);
      return (value) => (typeof value === 'string' ? value : String(value));
    }
  }
}

function toNumber(value: unknown, where: string): number {
  const n = typeof value === 'number' ? value : Number(value);
  if (Number.isNaN(n) && value !== 'NaN') throw new Error(`${where}: ${String(value)} is not a number`);
  return n;
}

function toSafeInteger(value: unknown, where: string): number {
  const n = toNumber(value, where);
  if (!Number.isSafeInteger(n)) throw new Error(`${where}: ${String(value)} does not fit a JavaScript number exactly`);
  return n;
}

function toDecimalString(value: unknown, where: string): string {
  // Both drivers read numeric as text; a float here would already be inexact.
  if (typeof value === 'string') return value;
  if (typeof value === 'bigint') return value.toString();
  throw new Error(`${where}: numeric arrived as ${typeof value}, not as exact text`);
}

function toDate(value: unknown, where: string): Date {
  const date = value instanceof Date ? new Date(value.getTime()) : new Date(String(value));
  if (Number.isNaN(date.getTime())) throw new Error(`${where}: ${String(value)} is not a point in time`);
  return date;
}

function toBoolean(value: unknown, where: string): boolean {
  if (typeof value === 'boolean') return value;
  if (value === 't' || value === 'true') return true;
  if (value === 'f' || value === 'false') return false;
  throw new Error(`${where}: ${String(value)} is not a boolean`);
}
