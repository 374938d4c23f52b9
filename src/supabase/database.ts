// The `Database` type that supabase-js takes (`createClient<Database>(...)`),
// derived from the Drizzle schema at the type level: a table or view changed
// in src/schema/ changes this type with it, and nothing is generated.
//
// Foreign keys (for embedded selects) cannot be read from Drizzle's types; they
// are generated into relationships.ts by `npm run docs`, checked by a test.
//
// Values are typed as PostgREST sends them over JSON, which is not always what
// Drizzle returns:
// - timestamps and dates are ISO strings;
// - numeric (money) is a JSON number, so it is `number` here (Drizzle reads it
//   as a string to keep it exact); inserts and updates take a number or a string;
// - bigint is a JSON number;
// - jsonb is `Json` (writes leave out null where the column is NOT NULL);
// - enums are their values, in rows and in the arguments and results of functions.
import type { Column, InferInsertModel, InferSelectModel, Table, View } from 'drizzle-orm';
import type * as schema from '../schema/index.js';
import type { RpcFunctions } from './functions.js';
import type { TableRelationships } from './relationships.js';

/** Any JSON value, as PostgREST reads and writes jsonb. */
export type Json = string | number | boolean | null | { [key: string]: Json | undefined } | Json[];

type Digit = '0' | '1' | '2' | '3' | '4' | '5' | '6' | '7' | '8' | '9';

/**
 * `agentMode` → `agent_mode`: how `casing: 'snake_case'` names columns in SQL.
 * A number after a letter starts a word too (`cacheWrite1hTokens` →
 * `cache_write_1h_tokens`); the schema names such columns explicitly, since
 * Drizzle's own casing would run the number into the word before it.
 */
export type SnakeCase<S extends string> = S extends `${infer Head}${infer Tail}`
  ? Tail extends `${Digit}${string}`
    ? Head extends Digit
      ? `${Head}${SnakeCase<Tail>}`
      : `${Lowercase<Head>}_${SnakeCase<Tail>}`
    : Tail extends Uncapitalize<Tail>
      ? `${Lowercase<Head>}${SnakeCase<Tail>}`
      : `${Lowercase<Head>}_${SnakeCase<Tail>}`
  : S;


type Schema = typeof schema;

/** What a column's value looks like on the wire, given Drizzle's TypeScript type `T`. */
type Wire<C, T, Direction extends 'out' | 'in'> = C extends Column
  ? C['_']['columnType'] extends 'PgNumeric'
    ? Direction extends 'out'
      ? number | Extract<T, null>
      : number | string | Extract<T, null | undefined>
    : C['_']['dataType'] extends 'json'
      ? JsonWire<C, T, Direction>
      : T extends Date
        ? string
        : T
  : T;

// A NOT NULL json column may still hold the JSON value null ('null'::jsonb),
// and PostgREST reads it back as null, so rows say `Json`. Writes through
// PostgREST turn a JSON null into SQL NULL, which such a column refuses, so
// inserts and updates leave null out.
type JsonWire<C extends Column, T, Direction extends 'out' | 'in'> = Direction extends 'in'
  ? C['_']['notNull'] extends true
    ? NonNullable<Json> | Extract<T, undefined>
    : Json | Extract<T, null | undefined>
  : Json | Extract<T, null | undefined>;

type WireModel<Columns, Model, Direction extends 'out' | 'in'> = {
  [K in keyof Model as SnakeCase<K & string>]: Wire<K extends keyof Columns ? Columns[K] : never, Model[K], Direction>;
};

type TableRow<T extends Table> = WireModel<T['_']['columns'], InferSelectModel<T>, 'out'>;
type TableInsert<T extends Table> = WireModel<T['_']['columns'], InferInsertModel<T>, 'in'>;

type TablesOf<S> = {
  [K in keyof S as S[K] extends Table ? S[K]['_']['name'] : never]: S[K] extends Table
    ? {
        Row: TableRow<S[K]>;
        Insert: TableInsert<S[K]>;
        Update: Partial<TableInsert<S[K]>>;
        // Foreign keys are not part of Drizzle's table types: they come from
        // relationships.ts, generated from the migrated catalog.
        Relationships: S[K]['_']['name'] extends keyof TableRelationships ? TableRelationships[S[K]['_']['name']] : [];
      }
    : never;
};

type ViewsOf<S> = {
  [K in keyof S as S[K] extends View ? S[K]['_']['name'] : never]: S[K] extends View
    ? {
        Row: WireModel<S[K]['_']['selectedFields'], S[K]['$inferSelect'], 'out'>;
        Relationships: [];
      }
    : never;
};

type EnumsOf<S> = {
  [K in keyof S as S[K] extends { enumName: string; enumValues: readonly string[] } ? SnakeCase<K & string> : never]: S[K] extends {
    enumValues: readonly (infer V)[];
  }
    ? V
    : never;
};

/** The enums of `public` by SQL name, as their values: `PgEnums['agent_mode']`. */
export type PgEnums = EnumsOf<Schema>;

/** The public schema as supabase-js sees it. */
export interface PublicSchema {
  Tables: TablesOf<Schema>;
  Views: ViewsOf<Schema>;
  Functions: RpcFunctions;
  Enums: PgEnums;
  CompositeTypes: { [_ in never]: never };
}

/** Pass to `createClient<Database>(url, key)`. */
export interface Database {
  __InternalSupabase: { PostgrestVersion: '12' };
  public: PublicSchema;
}

/** A table's row as supabase-js returns it: `Tables<'ai_usage_daily'>`. */
export type Tables<Name extends keyof PublicSchema['Tables']> = PublicSchema['Tables'][Name]['Row'];
export type TablesInsert<Name extends keyof PublicSchema['Tables']> = PublicSchema['Tables'][Name]['Insert'];
export type TablesUpdate<Name extends keyof PublicSchema['Tables']> = PublicSchema['Tables'][Name]['Update'];
export type Views<Name extends keyof PublicSchema['Views']> = PublicSchema['Views'][Name]['Row'];
export type Enums<Name extends keyof PublicSchema['Enums']> = PublicSchema['Enums'][Name];
export type Functions<Name extends keyof PublicSchema['Functions']> = PublicSchema['Functions'][Name];
