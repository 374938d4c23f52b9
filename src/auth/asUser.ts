import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import type { Db, Tx } from '../db.js';
import { withClaims, type JwtClaims } from './withClaims.js';

/** Why a token or claims were refused. Nothing ran when this is thrown. */
export type AuthErrorCode =
  | 'token_missing'
  | 'token_malformed'
  | 'token_invalid_signature'
  | 'token_expired'
  | 'token_wrong_audience'
  | 'token_wrong_issuer'
  | 'not_a_signed_in_user'
  | 'no_verification_key';

export class AuthError extends Error {
  override readonly name = 'AuthError';
  constructor(
    readonly code: AuthErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface VerifyOptions {
  /** The project's JWT secret (HS256), as in the Supabase dashboard. */
  jwtSecret?: string;
  /** The project's public keys (asymmetric signing keys): a JWKS object, its URL, or a jose key getter. */
  jwks?: JSONWebKeySet | URL | JWTVerifyGetKey;
  /** Expected `aud`; Supabase access tokens say 'authenticated'. */
  audience?: string;
  /** Expected `iss`, e.g. https://<project>.supabase.co/auth/v1; not checked when omitted. */
  issuer?: string;
  /** Allowed clock difference in seconds. */
  clockToleranceSeconds?: number;
}

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const remoteKeySets = new Map<string, JWTVerifyGetKey>();

function keyFor(options: VerifyOptions): Uint8Array | JWTVerifyGetKey {
  if (options.jwks) {
    if (typeof options.jwks === 'function') return options.jwks;
    if (options.jwks instanceof URL) {
      const href = options.jwks.href;
      if (!remoteKeySets.has(href)) remoteKeySets.set(href, createRemoteJWKSet(options.jwks));
      return remoteKeySets.get(href)!;
    }
    return createLocalJWKSet(options.jwks);
  }
  if (options.jwtSecret) return new TextEncoder().encode(options.jwtSecret);
  throw new AuthError('no_verification_key', 'asUser: give jwtSecret or jwks to verify access tokens');
}

/** Checks that verified claims belong to a signed-in user; returns them as the database will see them. */
export function userClaims(payload: JWTPayload | JwtClaims): JwtClaims & { sub: string } {
  if (payload.role !== 'authenticated') {
    throw new AuthError(
      'not_a_signed_in_user',
      `token role is ${JSON.stringify(payload.role ?? null)}: only signed-in users (role "authenticated") may act as a user`,
    );
  }
  if (typeof payload.sub !== 'string' || !uuidPattern.test(payload.sub)) {
    throw new AuthError('not_a_signed_in_user', 'token has no user id (sub must be a uuid)');
  }
  return { ...(payload as JwtClaims), role: 'authenticated', sub: payload.sub };
}

/** Verifies a Supabase access token (signature, expiry, audience, issuer) and returns its claims. */
export async function verifyAccessToken(token: string, options: VerifyOptions): Promise<JwtClaims & { sub: string }> {
  if (!token || typeof token !== 'string') throw new AuthError('token_missing', 'no access token given');
  const key = keyFor(options);
  try {
    const { payload } = await jwtVerify(token, key as Uint8Array, {
      audience: options.audience ?? 'authenticated',
      issuer: options.issuer,
      clockTolerance: options.clockToleranceSeconds ?? 0,
      requiredClaims: ['exp', 'sub'],
    });
    return userClaims(payload);
  } catch (error) {
    if (error instanceof AuthError) throw error;
    if (error instanceof errors.JWTExpired) throw new AuthError('token_expired', 'access token has expired', { cause: error });
    if (error instanceof errors.JWTClaimValidationFailed) {
      if (error.claim === 'aud') throw new AuthError('token_wrong_audience', 'access token is for another audience', { cause: error });
      if (error.claim === 'iss') throw new AuthError('token_wrong_issuer', 'access token comes from another issuer', { cause: error });
      throw new AuthError('token_malformed', `access token claim ${error.claim} is invalid: ${error.reason}`, { cause: error });
    }
    if (error instanceof errors.JWSSignatureVerificationFailed || error instanceof errors.JWKSNoMatchingKey) {
      throw new AuthError('token_invalid_signature', 'access token signature does not verify', { cause: error });
    }
    throw new AuthError('token_malformed', 'access token is not a valid JWT', { cause: error });
  }
}

/**
 * Runs `fn` in a transaction as the signed-in user: role `authenticated` and
 * `request.jwt.claims` set, as on a Supabase API request, so RLS and
 * `auth.uid()` apply to everything inside. Give the user's access token (it is
 * verified first) or claims your service has already verified.
 */
export async function asUser<T>(
  db: Db,
  tokenOrClaims: string | JwtClaims,
  fn: (tx: Tx) => Promise<T>,
  options: VerifyOptions = {},
): Promise<T> {
  const claims = typeof tokenOrClaims === 'string' ? await verifyAccessToken(tokenOrClaims, options) : userClaims(tokenOrClaims);
  return withClaims(db, claims, fn);
}
