import { sql, type SQL } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withClaims, type JwtClaims } from '../../src/auth/withClaims.js';
import { queryRows } from '../../src/db.js';
import { pgErrorOf } from '../../src/errors.js';
import { signUpLocal } from '../../src/local/auth.js';
import { recordUsage } from '../../src/queries/usage.js';
import { freshDatabase, type TestDatabase } from '../support/database.js';
import { startTestSession } from '../support/fixtures.js';

// Each escalation a user might try, tried. Every one must fail and change nothing.
let t: TestDatabase;
let alice: string;
let bob: string;
let bobSession: string;

const as = (claims: JwtClaims, statement: SQL) => withClaims(t.db, claims, (tx) => queryRows(tx, statement));
const asAlice = (statement: SQL) => as({ role: 'authenticated', sub: alice }, statement);
const code = async (p: Promise<unknown>) => pgErrorOf(await p.then(() => null, (e) => e)).code;

beforeAll(async () => {
  t = await freshDatabase();
  alice = await signUpLocal(t.db, { email: 'alice@example.com', emailConfirmed: true });
  bob = await signUpLocal(t.db, { email: 'bob@example.com', emailConfirmed: true });
  bobSession = await startTestSession(t, bob);
  await recordUsage(t.db, { userId: bob, idempotencyKey: 'b1', provider: 'ollama', model: 'llama3', agentMode: 'debug', inputTokens: 7 });
  await t.rows(sql`insert into quota_tiers (id, name, monthly_token_limit, monthly_cost_limit_usd, daily_request_limit)
    values ('enterprise', 'Enterprise', 999999999, 99999, 999999)`);
});
afterAll(() => t?.close());

async function aliceProfileAndQuota() {
  const [row] = await t.rows<Record<string, unknown>>(sql`select p.is_admin, q.tier_id, q.monthly_token_limit::text as l,
    q.monthly_token_limit_override::text as o from profiles p join user_quotas q on q.user_id = p.id where p.id = ${alice}`);
  return row;
}

describe('escalations a signed-in user might try', () => {
  it('set your own admin flag (directly, or together with an allowed column)', async () => {
    const before = await aliceProfileAndQuota();
    expect(await code(asAlice(sql`update profiles set is_admin = true where id = ${alice}`))).toBe('42501');
    expect(await code(asAlice(sql`update profiles set display_name = 'x', is_admin = true where id = ${alice}`))).toBe('42501');
    expect(await aliceProfileAndQuota()).toEqual(before);
  });

  it('raise your own limits', async () => {
    const before = await aliceProfileAndQuota();
    expect(await code(asAlice(sql`update user_quotas set monthly_token_limit_override = 999999999 where user_id = ${alice}`))).toBe('42501');
    expect(await code(asAlice(sql`update user_quotas set monthly_token_limit = 999999999 where user_id = ${alice}`))).toBe('42501');
    expect(await code(asAlice(sql`insert into user_quotas (user_id, tier_id, monthly_token_limit, monthly_cost_limit_usd, daily_request_limit, soft_limit_percent) values (${alice}, 'enterprise', 1, 1, 1, 1)`))).toBe('42501');
    expect(await aliceProfileAndQuota()).toEqual(before);
  });

  it('change your own tier, or the tier itself', async () => {
    expect(await code(asAlice(sql`update user_quotas set tier_id = 'enterprise' where user_id = ${alice}`))).toBe('42501');
    expect(await code(asAlice(sql`update quota_tiers set monthly_token_limit = 999999999 where id = 'free'`))).toBe('42501');
    expect((await aliceProfileAndQuota())!.tier_id).toBe('free');
  });

  it('record usage for yourself, or with zero cost', async () => {
    expect(await code(asAlice(sql`insert into ai_usage_events (user_id, idempotency_key, provider, model, agent_mode, cost_usd, cost_source, status)
      values (${alice}, 'fake', 'openai', 'gpt-4.1', 'debug', 0, 'given', 'success')`))).toBe('42501');
    expect(await code(asAlice(sql`select * from record_usage(${alice}::uuid, 'fake', 'openai', 'gpt-4.1', 'debug', 1000, 0, 0, 0, 0, 'success', 0)`))).toBe('42501');
    expect(await code(asAlice(sql`insert into ai_usage_daily (user_id, date, provider, model, agent_mode) values (${alice}, date_trunc('day', now(), 'UTC'), 'openai', 'x', 'debug')`))).toBe('42501');
    expect(await code(asAlice(sql`update ai_usage_daily set total_tokens = 0 where user_id = ${alice}`))).toBe('42501');
    const [n] = await t.rows<{ n: number }>(sql`select count(*)::int as n from ai_usage_events where user_id = ${alice}`);
    expect(n!.n).toBe(0);
  });

  it("write into another user's session", async () => {
    expect(await code(asAlice(sql`insert into agent_messages (session_id, user_id, role, content) values (${bobSession}, ${bob}, 'user', 'x')`))).toBe('23503');
    expect(await code(asAlice(sql`insert into agent_messages (session_id, user_id, role, content) values (${bobSession}, ${alice}, 'user', 'x')`))).toBe('23503');
    const updated = await asAlice(sql`update agent_sessions set title = 'pwned' where id = ${bobSession} returning 1`);
    expect(updated).toEqual([]);
    expect(await code(asAlice(sql`update agent_sessions set user_id = ${alice} where id = ${bobSession}`))).toBe('42501');
    const [s] = await t.rows<{ title: string | null; message_count: number }>(sql`select title, message_count from agent_sessions where id = ${bobSession}`);
    expect(s).toEqual({ title: null, message_count: 0 });
  });

  it('update or delete an audit entry: as the user, as service_role, and as the owner', async () => {
    await t.rows(sql`update user_quotas set monthly_token_limit_override = 5 where user_id = ${alice}`);
    const [entry] = await t.rows<{ id: number }>(sql`select id from audit_log where subject_id = ${alice} order by id desc limit 1`);
    for (const claims of [{ role: 'authenticated', sub: alice }, { role: 'service_role' }] as JwtClaims[]) {
      expect(await code(as(claims, sql`update audit_log set action = 'nothing' where id = ${entry!.id}`))).toBe('42501');
      expect(await code(as(claims, sql`delete from audit_log where id = ${entry!.id}`))).toBe('42501');
      expect(await code(as(claims, sql`truncate audit_log`))).toBe('42501');
    }
    expect(await code(t.rows(sql`update audit_log set action = 'nothing' where id = ${entry!.id}`))).toBe('42501');
    expect(await code(t.rows(sql`delete from audit_log where id = ${entry!.id}`))).toBe('42501');
    const [still] = await t.rows<{ action: string }>(sql`select action from audit_log where id = ${entry!.id}`);
    expect(still!.action).toBe('quota.limits_changed');
  });

  it('only the retention function removes audit entries, and only old ones', async () => {
    await t.rows(sql`insert into audit_log (occurred_at, subject_id, action, entity_type) values (now() - interval '400 days', ${alice}, 'ancient', 'test')`);
    expect(await code(as({ role: 'authenticated', sub: alice }, sql`select public.purge_audit_log(interval '365 days')`))).toBe('42501');
    expect(await code(as({ role: 'service_role' }, sql`select public.purge_audit_log(interval '1 day')`))).toBe('22023');
    const [r] = await as({ role: 'service_role' }, sql`select public.purge_audit_log(interval '365 days') as n`);
    expect(Number((r as { n: number }).n)).toBe(1);
    const left = await t.rows(sql`select 1 from audit_log where action = 'ancient'`);
    expect(left).toEqual([]);
  });

  it('authorise through user_metadata', async () => {
    const mallory = await signUpLocal(t.db, {
      email: 'mallory@example.com',
      userMetadata: { is_admin: true, role: 'service_role', tier: 'enterprise', full_name: 'Mallory' },
    });
    await t.rows(sql`update auth.users set raw_user_meta_data = '{"is_admin": true, "admin": true}' where id = ${mallory}`);
    const [p] = await t.rows<{ is_admin: boolean; tier_id: string; display_name: string }>(
      sql`select p.is_admin, q.tier_id, p.display_name from profiles p join user_quotas q on q.user_id = p.id where p.id = ${mallory}`,
    );
    expect(p).toEqual({ is_admin: false, tier_id: 'free', display_name: 'Mallory' });
    const claims = { role: 'authenticated', sub: mallory, user_metadata: { is_admin: true } } as JwtClaims;
    const [admin] = await as(claims, sql`select private.is_admin() as is_admin`);
    expect((admin as { is_admin: boolean }).is_admin).toBe(false);
    expect(await as(claims, sql`select 1 from ai_usage_events where user_id = ${bob}`)).toEqual([]);
  });

  it('an admin (profile flag, set by service_role) reads every user\'s usage; others do not', async () => {
    expect(await asAlice(sql`select 1 from ai_usage_events where user_id = ${bob}`)).toEqual([]);
    await as({ role: 'service_role' }, sql`update profiles set is_admin = true where id = ${alice}`);
    expect((await asAlice(sql`select 1 from ai_usage_events where user_id = ${bob}`)).length).toBe(1);
    expect((await asAlice(sql`select 1 from ai_usage_daily where user_id = ${bob}`)).length).toBeGreaterThan(0);
    // Support reads usage, not conversations.
    expect(await asAlice(sql`select 1 from agent_sessions where user_id = ${bob}`)).toEqual([]);
    const [entry] = await t.rows<{ before: unknown; after: unknown; actor_role: string }>(
      sql`select before, after, actor_role from audit_log where subject_id = ${alice} and action = 'profile.admin_changed'`,
    );
    expect(entry).toEqual({ before: { is_admin: false }, after: { is_admin: true }, actor_role: 'service_role' });
    await t.rows(sql`update profiles set is_admin = false where id = ${alice}`);
  });
});

describe('SECURITY DEFINER functions, called directly', () => {
  // Found in the catalog, so a new one is covered without touching this file.
  // Signed-in users may call private.is_admin() and the membership helpers
  // (policies need them), and the organisation functions behind the API's
  // (they check the caller themselves). Called with nothing, each says no:
  // false, no rows, or a refusal naming what is missing.
  const callableBySignedIn = new Map<string, 'false' | 'no rows' | string>([
    ['private.is_admin', 'false'],
    ['private.member_organisations', 'no rows'],
    ['private.managed_organisations', 'no rows'],
    ['private.get_organisation_quota_status', 'no rows'],
    ['private.get_grant_balances', 'no rows'],
    ['private.create_organisation', '22023'],
    ['private.invite_member', '22023'],
    ['private.accept_invitation', '22023'],
    ['private.revoke_invitation', '23503'],
    ['private.set_member_role', '22023'],
    ['private.set_member_caps', '22023'],
    ['private.set_default_member_caps', '22023'],
    ['private.remove_member', '22023'],
  ]);

  it('anon can call none; another user only is_admin and the organisation functions, which say no', async () => {
    const fns = await t.rows<{ name: string; args: string; nargs: number; set: boolean }>(sql`
      select n.nspname || '.' || p.proname as name, pg_get_function_identity_arguments(p.oid) as args, p.pronargs as nargs,
             p.proretset as set
      from pg_proc p join pg_namespace n on n.oid = p.pronamespace
      where p.prosecdef and n.nspname in ('public', 'private') order by 1`);
    expect(fns.length).toBeGreaterThanOrEqual(8);
    for (const fn of fns) {
      const args = Array.from({ length: fn.nargs }, () => 'null').join(', ');
      const call = sql.raw(fn.set ? `select * from ${fn.name}(${args})` : `select ${fn.name}(${args})`);
      expect([fn.name, await code(as({ role: 'anon' }, call))]).toEqual([fn.name, '42501']);
      const expected = callableBySignedIn.get(fn.name);
      if (expected === 'false') {
        const [r] = await as({ role: 'authenticated', sub: bob }, call);
        expect(Object.values(r as object)[0]).toBe(false);
      } else if (expected === 'no rows') {
        expect([fn.name, await as({ role: 'authenticated', sub: bob }, call)]).toEqual([fn.name, []]);
      } else {
        expect([fn.name, await code(as({ role: 'authenticated', sub: bob }, call))]).toEqual([fn.name, expected ?? '42501']);
      }
    }
    expect(fns.map((f) => f.name)).toEqual(expect.arrayContaining([...callableBySignedIn.keys()]));
  });
});

describe('anon reads nothing at all', () => {
  it('every relation in public refuses anon', async () => {
    const rels = await t.rows<{ name: string }>(sql`select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind in ('r', 'v', 'm', 'p')`);
    for (const r of rels) {
      expect([r.name, await code(as({ role: 'anon' }, sql`select * from ${sql.identifier(r.name)} limit 1`))]).toEqual([r.name, '42501']);
    }
  });

  it('a table, sequence or function added by a later migration is granted to nobody until its source says so', async () => {
    await t.db.transaction(async (tx) => {
      await tx.execute(sql`create table public.later_table (id bigint generated always as identity, note text)`);
      await tx.execute(sql`create function public.later_function() returns int language sql as 'select 1'`);
      const [p] = await queryRows<Record<string, boolean>>(tx, sql`select
        has_table_privilege('anon', 'public.later_table', 'select') as anon,
        has_table_privilege('authenticated', 'public.later_table', 'select,insert,update,delete,truncate,references,trigger') as signed_in,
        has_table_privilege('service_role', 'public.later_table', 'select,insert,update,delete,truncate,references,trigger') as service,
        has_sequence_privilege('authenticated', 'public.later_table_id_seq', 'usage,select,update') as sequence,
        has_function_privilege('anon', 'public.later_function()', 'execute') as anon_executes,
        has_function_privilege('authenticated', 'public.later_function()', 'execute') as signed_in_executes`);
      // Supabase's own default privileges would have granted all of these.
      expect(p).toEqual({ anon: false, signed_in: false, service: false, sequence: false, anon_executes: false, signed_in_executes: false });
      tx.rollback();
    }).catch((e) => {
      if (!String(e?.message ?? e).includes('Rollback')) throw e;
    });
  });

  it('anon cannot read auth.users', async () => {
    expect(await code(as({ role: 'anon' }, sql`select * from auth.users limit 1`))).toBe('42501');
    expect(await code(as({ role: 'authenticated', sub: alice }, sql`select * from auth.users limit 1`))).toBe('42501');
  });
});
