import type { z } from 'zod';

/**
 * Bad input, from TypeScript validation or from the database: which field,
 * and the rule it broke. Nothing was written when this is thrown.
 */
export class ValidationError extends Error {
  override readonly name = 'ValidationError';
  constructor(
    readonly field: string,
    readonly rule: string,
    options?: { cause?: unknown },
  ) {
    super(`${field}: ${rule}`, options);
  }
}

/** The first problem zod found, as a ValidationError naming the field (snake_case, as in SQL). */
export function fromZodError(error: z.ZodError): ValidationError {
  const issue = error.issues[0];
  const path = issue?.path.map(String).join('.') || 'input';
  const field = path.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`).replace(/([a-z])(\d)/g, '$1_$2');
  return new ValidationError(field, issue?.message ?? 'is invalid', { cause: error });
}

/** Parses input with a zod schema, throwing a ValidationError that names the field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw fromZodError(result.error);
  return result.data;
}

/**
 * What PostgreSQL said when it refused a statement, read from whatever the
 * driver threw. Drizzle wraps driver errors (the database's error is the
 * `cause`), and the drivers name the fields differently: postgres.js says
 * `constraint_name`, `column_name`, ...; PGlite says `constraint`, `column`, ...
 */
export interface PgError {
  /** SQLSTATE, e.g. '23505'; absent when the error did not come from the database. */
  code?: string;
  message: string;
  detail?: string;
  hint?: string;
  constraint?: string;
  column?: string;
  table?: string;
  schema?: string;
  /** PL/pgSQL context of the error, when a function raised it. */
  where?: string;
}

const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/**
 * Follows the `cause` chain to the first error carrying a SQLSTATE (or, if
 * none does, to the innermost error) and returns its fields under one set of
 * names.
 */
export function pgErrorOf(error: unknown): PgError {
  let e: any = error;
  // A chain is a few links long; the bound only guards against a cycle.
  for (let depth = 0; depth < 16 && e && typeof e === 'object' && !e.code && e.cause; depth++) e = e.cause;
  const found = e && typeof e === 'object' ? e : {};
  return {
    code: text(found.code),
    message: String(found.message ?? e ?? error),
    detail: text(found.detail),
    hint: text(found.hint),
    constraint: text(found.constraint_name) ?? text(found.constraint),
    column: text(found.column_name) ?? text(found.column),
    table: text(found.table_name) ?? text(found.table),
    schema: text(found.schema_name) ?? text(found.schema),
    where: text(found.where),
  };
}

// SQLSTATEs that mean "the input was wrong": invalid parameter value, foreign
// key, check, unique, not null, bad enum text, out of range, and a limit of
// what may be stored (program_limit_exceeded: a tier's limits, a full total).
const inputErrorCodes = new Set(['22023', '23503', '23514', '23505', '23502', '22P02', '22003', '54000']);

/** Turns a database refusal of bad input into a ValidationError; anything else passes through. */
export function fromDatabaseError(error: unknown): unknown {
  const e = pgErrorOf(error);
  if (!e.code || !inputErrorCodes.has(e.code)) return error;
  // Our functions raise "field: rule".
  const own = /^([a-z_][a-z0-9_.]*): (.+)$/s.exec(e.message);
  if (own) return new ValidationError(own[1]!, own[2]!, { cause: error });
  // Foreign-key and unique violations name their columns in the detail: "Key (user_id)=(...) ...".
  const keyed = /^Key \(([^)]+)\)=/.exec(e.detail ?? '');
  const field = e.column ?? keyed?.[1] ?? e.constraint ?? 'input';
  return new ValidationError(field, e.message, { cause: error });
}

/** Runs a database call, translating input errors. */
export async function withInputErrors<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw fromDatabaseError(error);
  }
}
