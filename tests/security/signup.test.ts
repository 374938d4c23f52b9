import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUpLocal } from '../../src/local/auth.js';
import { queryRows, type Db } from '../../src/db.js';
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

  it('an anonymous user starts on the anonymous tier, not the free one', async () => {
    const id = await signUpLocal(t.db, { isAnonymous: true });
    expect(await profileOf(id)).toMatchObject({ email: null, is_anonymous: true, tier_id: 'anonymous' });
    const [q] = await t.rows<{ monthly_token_limit: string; daily_request_limit: number }>(
      sql`select monthly_token_limit::text, daily_request_limit from user_quotas where user_id = ${id}`);
    const [free] = await t.rows<{ monthly_token_limit: string }>(sql`select monthly_token_limit::text from quota_tiers where id = 'free'`);
    expect(Number(q!.monthly_token_limit)).toBeLessThan(Number(free!.monthly_token_limit));
    // Farming: a hundred anonymous sign-ins hold a hundred small quotas, not a hundred free ones.
    for (let i = 0; i < 100; i++) await signUpLocal(t.db, { isAnonymous: true });
    const [farm] = await t.rows<{ tiers: string[] }>(sql`select array_agg(distinct q.tier_id) as tiers
      from user_quotas q join profiles p on p.id = q.user_id where p.is_anonymous`);
    expect(farm!.tiers).toEqual(['anonymous']);
  });

  it('without a tier marked for anonymous users, they get the default tier', async () => {
    await t.db.transaction(async (tx) => {
      await tx.execute(sql`update quota_tiers set is_anonymous_default = false`);
      const id = await signUpLocal(tx as unknown as Db, { isAnonymous: true });
      await tx.execute(sql`reset role`);
      const [q] = await queryRows<{ tier_id: string }>(tx, sql`select tier_id from user_quotas where user_id = ${id}`);
      expect(q!.tier_id).toBe('free');
      tx.rollback();
    }).catch((e) => {
      if (!String(e?.message ?? e).includes('Rollback')) throw e;
    });
  });

  it('control and bidi-override characters are removed from names taken at sign-up', async () => {
    const id = await signUpLocal(t.db, { email: 'rlo@example.com', userMetadata: { full_name: ' Eve\u202Egpj.exe\u0007\u2066 ' } });
    expect((await profileOf(id))!.display_name).toBe('Evegpj.exe');
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

  it('an anonymous user who links an email is no longer anonymous, moves to the default tier, and it is audited', async () => {
    const id = await signUpLocal(t.db, { isAnonymous: true });
    await t.rows(sql`update auth.users set email = 'linked@example.com', is_anonymous = false where id = ${id}`);
    expect(await profileOf(id)).toMatchObject({ email: 'linked@example.com', is_anonymous: false, tier_id: 'free' });
    const entries = await t.rows<{ action: string; before: unknown; after: unknown }>(sql`select action, before, after from audit_log
      where subject_id = ${id} order by id`);
    expect(entries).toEqual([
      { action: 'quota.tier_changed', before: expect.objectContaining({ tier_id: 'anonymous' }), after: expect.objectContaining({ tier_id: 'free' }) },
      { action: 'user.anonymous_linked', before: { is_anonymous: true, tier_id: 'anonymous' }, after: { is_anonymous: false, tier_id: 'free' } },
    ]);
  });

  it('a user an admin put on another tier keeps it when linking', async () => {
    await t.rows(sql`insert into quota_tiers (id, name, monthly_token_limit, monthly_cost_limit_usd, daily_request_limit)
      values ('trial', 'Trial', 50000, 1, 50) on conflict do nothing`);
    const id = await signUpLocal(t.db, { isAnonymous: true });
    await t.rows(sql`update user_quotas set tier_id = 'trial' where user_id = ${id}`);
    await t.rows(sql`update auth.users set email = 'kept@example.com', is_anonymous = false where id = ${id}`);
    expect(await profileOf(id)).toMatchObject({ is_anonymous: false, tier_id: 'trial' });
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

