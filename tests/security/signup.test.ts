import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUpLocal } from '../../src/local/auth.js';
import { recordUsage } from '../../src/queries/usage.js';
import { freshDatabase, type TestDatabase } from '../support/database.js';
import { startTestSession } from '../support/fixtures.js';

// Sign-ups go through auth.users as supabase_auth_admin, as Supabase Auth does.
let t: TestDatabase;
beforeAll(async () => {
  t = await freshDatabase();
});
afterAll(() => t?.close());

async function profileOf(id: string) {
  const [row] = await t.rows<Record<string, unknown>>(sql`select p.email, p.email_verified, p.phone, p.display_name, p.is_anonymous,
      p.is_admin, q.tier_id from profiles p left join user_quotas q on q.user_id = p.id where p.id = ${id}`);
  return row;
}

describe('sign-up never fails for odd but valid input', () => {
  it('an email user with a name gets a profile and a quota on the default tier', async () => {
    const id = await signUpLocal(t.db, { email: 'ada@example.com', emailConfirmed: true, userMetadata: { full_name: 'Ada Lovelace' } });
    expect(await profileOf(id)).toEqual({
      email: 'ada@example.com', email_verified: true, phone: null, display_name: 'Ada Lovelace', is_anonymous: false, is_admin: false, tier_id: 'free',
    });
  });

  it('no metadata at all (null)', async () => {
    const id = await signUpLocal(t.db, { email: 'bare@example.com', userMetadata: null });
    expect(await profileOf(id)).toMatchObject({ email: 'bare@example.com', display_name: null, tier_id: 'free' });
  });

  it('a phone user with no email', async () => {
    const id = await signUpLocal(t.db, { phone: '15550001111', phoneConfirmed: true });
    expect(await profileOf(id)).toMatchObject({ email: null, phone: '15550001111', email_verified: false, tier_id: 'free' });
  });

  it('an anonymous user', async () => {
    const id = await signUpLocal(t.db, { isAnonymous: true });
    expect(await profileOf(id)).toMatchObject({ email: null, is_anonymous: true, tier_id: 'free' });
  });

  it('a very long name is shortened, not refused', async () => {
    const id = await signUpLocal(t.db, { email: 'long@example.com', userMetadata: { name: 'N'.repeat(10_000) } });
    expect(((await profileOf(id))!.display_name as string).length).toBe(200);
  });

  it('odd metadata shapes (numbers, arrays, blanks)', async () => {
    const id = await signUpLocal(t.db, { email: 'odd@example.com', userMetadata: { full_name: 42, name: ['x'], avatar: { a: 1 } } });
    expect(await profileOf(id)).toMatchObject({ display_name: '42', tier_id: 'free' });
    const blank = await signUpLocal(t.db, { email: 'blank@example.com', userMetadata: { full_name: '   ' } });
    expect((await profileOf(blank))!.display_name).toBeNull();
  });
});

describe('profiles follow auth.users', () => {
  it('email confirmation and email change are copied', async () => {
    const id = await signUpLocal(t.db, { email: 'change@example.com' });
    expect((await profileOf(id))!.email_verified).toBe(false);
    await t.rows(sql`update auth.users set email_confirmed_at = now() where id = ${id}`);
    expect((await profileOf(id))!.email_verified).toBe(true);
    await t.rows(sql`update auth.users set email = 'changed@example.com', phone = '15559990000' where id = ${id}`);
    expect(await profileOf(id)).toMatchObject({ email: 'changed@example.com', phone: '15559990000' });
  });

  it('an anonymous user who links an email is no longer anonymous', async () => {
    const id = await signUpLocal(t.db, { isAnonymous: true });
    await t.rows(sql`update auth.users set email = 'linked@example.com', is_anonymous = false where id = ${id}`);
    expect(await profileOf(id)).toMatchObject({ email: 'linked@example.com', is_anonymous: false });
  });

  it('deleting the auth user removes personal data; audit entries stay', async () => {
    const id = await signUpLocal(t.db, { email: 'leaving@example.com' });
    const session = await startTestSession(t, id);
    await t.rows(sql`insert into agent_messages (session_id, role, content) values (${session}, 'user', 'bye')`);
    await recordUsage(t.db, { userId: id, idempotencyKey: 'k', provider: 'ollama', model: 'llama3', agentMode: 'debug', inputTokens: 3, sessionId: session });
    await t.rows(sql`insert into quota_reservations (user_id, idempotency_key, estimated_tokens, expires_at) values (${id}, 'r', 1, now() + interval '1 hour')`);
    await t.rows(sql`update user_quotas set monthly_token_limit_override = 7 where user_id = ${id}`);
    await t.rows(sql`delete from auth.users where id = ${id}`);
    for (const table of ['profiles', 'user_quotas', 'quota_reservations', 'ai_usage_events', 'ai_usage_daily', 'agent_sessions', 'agent_messages']) {
      const column = table === 'profiles' ? 'id' : 'user_id';
      const rows = await t.rows(sql`select 1 from ${sql.identifier(table)} where ${sql.identifier(column)} = ${id}`);
      expect([table, rows.length]).toEqual([table, 0]);
    }
    const audit = await t.rows<{ action: string }>(sql`select action from audit_log where subject_id = ${id} order by id`);
    expect(audit.map((a) => a.action)).toEqual(['quota.limits_changed', 'user.deleted']);
  });

  it('a soft delete (deleted_at set by Supabase Auth) removes personal data too', async () => {
    const id = await signUpLocal(t.db, { email: 'soft@example.com' });
    await recordUsage(t.db, { userId: id, idempotencyKey: 'k', provider: 'ollama', model: 'llama3', agentMode: 'debug', inputTokens: 3 });
    await t.rows(sql`update auth.users set deleted_at = now() where id = ${id}`);
    expect(await profileOf(id)).toBeUndefined();
    expect(await t.rows(sql`select 1 from ai_usage_events where user_id = ${id}`)).toEqual([]);
    const audit = await t.rows<{ action: string }>(sql`select action from audit_log where subject_id = ${id}`);
    expect(audit.map((a) => a.action)).toEqual(['user.soft_deleted']);
  });
});

