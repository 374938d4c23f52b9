import { describe, expect, it } from 'vitest';
import { fromDatabaseError, pgErrorOf, ValidationError } from '../src/errors.js';

// pgErrorOf on errors shaped as the drivers throw them; the real refusals of
// both drivers are read through it by the constraint and security tests.
const wrapped = (cause: unknown) => new Error('Failed query: insert into ...', { cause });

describe('pgErrorOf', () => {
  it('reads postgres.js field names through a Drizzle wrapper', () => {
    const driver = Object.assign(new Error('duplicate key value violates unique constraint "profiles_pkey"'), {
      code: '23505',
      detail: 'Key (id)=(1) already exists.',
      constraint_name: 'profiles_pkey',
      table_name: 'profiles',
      schema_name: 'public',
    });
    expect(pgErrorOf(wrapped(driver))).toEqual({
      code: '23505',
      message: 'duplicate key value violates unique constraint "profiles_pkey"',
      detail: 'Key (id)=(1) already exists.',
      hint: undefined,
      constraint: 'profiles_pkey',
      column: undefined,
      table: 'profiles',
      schema: 'public',
      where: undefined,
    });
  });

  it("reads PGlite's field names the same way", () => {
    const driver = Object.assign(new Error('null value in column "email"'), { code: '23502', column: 'email', table: 'profiles' });
    expect(pgErrorOf(wrapped(wrapped(driver)))).toMatchObject({ code: '23502', column: 'email', table: 'profiles' });
  });

  it('without a SQLSTATE anywhere: the innermost message, no code', () => {
    expect(pgErrorOf(wrapped(new Error('connection refused')))).toMatchObject({ code: undefined, message: 'connection refused' });
    expect(pgErrorOf('plain text')).toMatchObject({ code: undefined, message: 'plain text' });
  });

  it('stops on a cycle of causes', () => {
    const a: { message: string; cause?: unknown } = { message: 'a' };
    a.cause = { message: 'b', cause: a };
    expect(pgErrorOf(a).code).toBeUndefined();
  });
});

describe('fromDatabaseError', () => {
  it('names the field from the key in the detail', () => {
    const driver = Object.assign(new Error('insert or update violates foreign key constraint'), {
      code: '23503',
      detail: 'Key (user_id)=(00000000-0000-0000-0000-000000000000) is not present in table "profiles".',
    });
    const error = fromDatabaseError(wrapped(driver));
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('user_id');
  });

  it('passes anything but bad input through', () => {
    const other = wrapped(Object.assign(new Error('permission denied'), { code: '42501' }));
    expect(fromDatabaseError(other)).toBe(other);
  });
});
