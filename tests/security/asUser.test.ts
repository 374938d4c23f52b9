import { sql } from 'drizzle-orm';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asUser, AuthError } from '../../src/auth/asUser.js';
import { queryRows } from '../../src/db.js';
import { signUpLocal } from '../../src/local/auth.js';
import { getQuotaStatus } from '../../src/queries/quotas.js';
import { freshDatabase, type TestDatabase } from '../support/database.js';

// A backend service acting as the signed-in user, from the user's access token.
const secret = 'test-only-jwt-secret-with-at-least-32-characters';
let t: TestDatabase;
let alice: string;
let bob: string;

function token(claims: Record<string, unknown>, options: { secret?: string; expiresIn?: string | number; audience?: string } = {}) {
  const jwt = new SignJWT({ role: 'authenticated', ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setAudience(options.audience ?? 'authenticated')
    .setExpirationTime(options.expiresIn ?? '1h');
  return jwt.sign(new TextEncoder().encode(options.secret ?? secret));
}

async function refusal(p: Promise<unknown>): Promise<string> {
  const error = await p.then(() => null, (e) => e);
  expect(error).toBeInstanceOf(AuthError);
  return (error as AuthError).code;
}

beforeAll(async () => {
  t = await freshDatabase();
  alice = await signUpLocal(t.db, { email: 'alice@example.com' });
  bob = await signUpLocal(t.db, { email: 'bob@example.com' });
});
afterAll(() => t?.close());

describe('asUser', () => {
  it('runs as the token\'s user: auth.uid(), role and RLS apply inside', async () => {
    const [who] = await asUser(t.db, await token({ sub: alice, email: 'alice@example.com' }), (tx) =>
      queryRows<{ uid: string; role: string; email: string }>(tx, sql`select auth.uid() as uid, current_user as role, auth.email() as email`),
    { jwtSecret: secret });
    expect(who).toEqual({ uid: alice, role: 'authenticated', email: 'alice@example.com' });
    const profiles = await asUser(t.db, await token({ sub: alice }), (tx) => queryRows(tx, sql`select id from profiles`), { jwtSecret: secret });
    expect(profiles).toEqual([{ id: alice }]);
    const other = await asUser(t.db, await token({ sub: alice }), (tx) => getQuotaStatus(tx, { userId: bob }), { jwtSecret: secret });
    expect(other).toBeNull();
  });

  it('the settings end with the transaction', async () => {
    await asUser(t.db, { role: 'authenticated', sub: alice }, async () => null);
    const [after] = await t.rows<{ uid: string | null; role: string }>(sql`select auth.uid() as uid, current_user as role`);
    expect(after).toEqual({ uid: null, role: 'postgres' });
  });

  it('refuses expired, forged, wrong-audience, anon and malformed tokens', async () => {
    const opts = { jwtSecret: secret };
    expect(await refusal(asUser(t.db, await token({ sub: alice }, { expiresIn: Math.floor(Date.now() / 1000) - 60 }), async () => 1, opts))).toBe('token_expired');
    expect(await refusal(asUser(t.db, await token({ sub: alice }, { secret: 'another-secret-of-at-least-32-characters!' }), async () => 1, opts))).toBe('token_invalid_signature');
    expect(await refusal(asUser(t.db, await token({ sub: alice }, { audience: 'somebody-else' }), async () => 1, opts))).toBe('token_wrong_audience');
    expect(await refusal(asUser(t.db, await token({ sub: alice, role: 'anon' }), async () => 1, opts))).toBe('not_a_signed_in_user');
    expect(await refusal(asUser(t.db, await token({ sub: alice, role: 'service_role' }), async () => 1, opts))).toBe('not_a_signed_in_user');
    expect(await refusal(asUser(t.db, 'not.a.jwt', async () => 1, opts))).toBe('token_malformed');
    expect(await refusal(asUser(t.db, '', async () => 1, opts))).toBe('token_missing');
    expect(await refusal(asUser(t.db, await token({ sub: alice }), async () => 1, {}))).toBe('no_verification_key');
  });

  it('never puts the token\'s text into SQL: a hostile sub is refused before the database', async () => {
    const hostile = `${alice}'); update profiles set is_admin = true; --`;
    expect(await refusal(asUser(t.db, await token({ sub: hostile }), async () => 1, { jwtSecret: secret }))).toBe('not_a_signed_in_user');
    // Odd but harmless claims travel as data.
    const [row] = await asUser(t.db, await token({ sub: alice, email: "o'brien\"; drop table profiles; --" }), (tx) =>
      queryRows<{ email: string }>(tx, sql`select auth.email() as email`), { jwtSecret: secret });
    expect(row!.email).toBe("o'brien\"; drop table profiles; --");
    const [admin] = await t.rows<{ is_admin: boolean }>(sql`select is_admin from profiles where id = ${alice}`);
    expect(admin!.is_admin).toBe(false);
  });

  it('verifies asymmetric tokens against a JWKS', async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' };
    const signed = await new SignJWT({ role: 'authenticated', sub: bob })
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setAudience('authenticated')
      .setExpirationTime('5m')
      .sign(privateKey);
    const [who] = await asUser(t.db, signed, (tx) => queryRows<{ uid: string }>(tx, sql`select auth.uid() as uid`), { jwks: { keys: [jwk] } });
    expect(who!.uid).toBe(bob);
    const { privateKey: stranger } = await generateKeyPair('ES256');
    const forged = await new SignJWT({ role: 'authenticated', sub: bob }).setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setAudience('authenticated').setExpirationTime('5m').sign(stranger);
    expect(await refusal(asUser(t.db, forged, async () => 1, { jwks: { keys: [jwk] } }))).toBe('token_invalid_signature');
  });

  it('takes already verified claims, but only of a signed-in user', async () => {
    const [who] = await asUser(t.db, { role: 'authenticated', sub: bob }, (tx) => queryRows<{ uid: string }>(tx, sql`select auth.uid() as uid`));
    expect(who!.uid).toBe(bob);
    expect(await refusal(asUser(t.db, { role: 'anon' }, async () => 1))).toBe('not_a_signed_in_user');
  });
});
