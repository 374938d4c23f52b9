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
  const field = path.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  return new ValidationError(field, issue?.message ?? 'is invalid', { cause: error });
}

/** Parses input with a zod schema, throwing a ValidationError that names the field. */
export function parseInput<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw fromZodError(result.error);
  return result.data;
}

// SQLSTATEs that mean "the input was wrong": invalid parameter value, foreign
// key, check, unique, not null, bad enum text.
const inputErrorCodes = new Set(['22023', '23503', '23514', '23505', '23502', '22P02', '22003']);

/** Turns a database refusal of bad input into a ValidationError; anything else passes through. */
export function fromDatabaseError(error: unknown): unknown {
  let e: any = error;
  while (e && !e.code && e.cause) e = e.cause;
  if (!e || !inputErrorCodes.has(e.code)) return error;
  const message: string = String(e.message ?? '');
  // Our functions raise "field: rule".
  const own = /^([a-z_][a-z0-9_.]*): (.+)$/s.exec(message);
  if (own) return new ValidationError(own[1]!, own[2]!, { cause: error });
  // Foreign-key and unique violations name their columns in the detail: "Key (user_id)=(...) ...".
  const keyed = /^Key \(([^)]+)\)=/.exec(String(e.detail ?? ''));
  const field = e.column_name ?? e.column ?? keyed?.[1] ?? e.constraint_name ?? e.constraint ?? 'input';
  return new ValidationError(field, message, { cause: error });
}

/** Runs a database call, translating input errors. */
export async function withInputErrors<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw fromDatabaseError(error);
  }
}
