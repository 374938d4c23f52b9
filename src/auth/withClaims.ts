import { sql } from 'drizzle-orm';
import type { Db, Tx } from '../db.js';

/** The API roles a transaction may take on, as PostgREST does for Supabase requests. */
export const apiRoles = ['anon', 'authenticated', 'service_role'] as const;
export type ApiRole = (typeof apiRoles)[number];

/** JWT claims as Supabase puts them in `request.jwt.claims`. */
export interface JwtClaims {
  sub?: string;
  role: ApiRole;
  [claim: string]: unknown;
}

/**
 * Runs `fn` in a transaction under `claims.role` with `request.jwt.claims` set,
 * exactly as a Supabase API request runs: `auth.uid()` and RLS see the
 * caller. The role and the claims are passed as bound values to set_config,
 * never spliced into SQL text. Both settings end with the transaction.
 *
 * The claims must already be verified; see `asUser` for access tokens.
 */
export async function withClaims<T>(db: Db, claims: JwtClaims, fn: (tx: Tx) => Promise<T>): Promise<T> {
  if (!apiRoles.includes(claims.role)) {
    throw new Error(`claims.role: must be one of ${apiRoles.join(', ')}, got ${JSON.stringify(claims.role)}`);
  }
  return db.transaction(async (tx) => {
    await tx.execute(
      sql`select set_config('role', ${claims.role}, true), set_config('request.jwt.claims', ${JSON.stringify(claims)}, true)`,
    );
    return fn(tx as Tx);
  });
}

/** Runs `fn` as the API's anonymous role: what a visitor with only the anon key can do. */
export function asAnon<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return withClaims(db, { role: 'anon' }, fn);
}

/** Runs `fn` as service_role: the backend's key, which bypasses RLS. */
export function asService<T>(db: Db, fn: (tx: Tx) => Promise<T>): Promise<T> {
  return withClaims(db, { role: 'service_role' }, fn);
}
