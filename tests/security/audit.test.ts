import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withClaims } from '../../src/auth/withClaims.js';
import { queryRows } from '../../src/db.js';
import { signUpLocal } from '../../src/local/auth.js';
import { freshDatabase, type TestDatabase } from '../support/database.js';

// Sensitive changes are written to the audit log by the database itself.
let t: TestDatabase;
let user: string;
beforeAll(async () => {
  t = await freshDatabase();
  user = await signUpLocal(t.db, { email: 'audited@example.com' });
});
afterAll(() => t?.close());

const entries = (action: string) =>
  t.rows<{ actor_role: string; subject_id: string | null; entity_id: string; before: any; after: any }>(
    sql`select actor_role, subject_id, entity_id, before, after from audit_log where action = ${action} order by id`,
  );

describe('the database audits sensitive changes', () => {
  it('admin flag, with before and after and who did it', async () => {
    await withClaims(t.db, { role: 'service_role' }, (tx) => queryRows(tx, sql`update profiles set is_admin = true where id = ${user}`));
    const [e] = await entries('profile.admin_changed');
    expect(e).toMatchObject({ actor_role: 'service_role', subject_id: user, before: { is_admin: false }, after: { is_admin: true } });
  });

  it('tier change and limit overrides', async () => {
    await t.rows(sql`insert into quota_tiers (id, name, monthly_token_limit, monthly_cost_limit_usd, daily_request_limit) values ('pro', 'Pro', 10000000, 100, 5000)`);
    await t.rows(sql`update user_quotas set tier_id = 'pro' where user_id = ${user}`);
    const [tier] = await entries('quota.tier_changed');
    expect(tier!.before).toMatchObject({ tier_id: 'free', monthly_token_limit: 1000000 });
    expect(tier!.after).toMatchObject({ tier_id: 'pro', monthly_token_limit: 10000000 });
    await t.rows(sql`update user_quotas set daily_request_limit_override = 9 where user_id = ${user}`);
    const [limits] = await entries('quota.limits_changed');
    expect(limits!.before).toMatchObject({ daily_request_limit: 5000, daily_request_limit_override: null });
    expect(limits!.after).toMatchObject({ daily_request_limit: 9, daily_request_limit_override: 9 });
  });

  it("a tier's limits, and the change it makes to each user on it", async () => {
    const before = (await entries('quota.limits_changed')).length;
    await t.rows(sql`update quota_tiers set monthly_token_limit = 20000000 where id = 'pro'`);
    const [tier] = await entries('tier.limits_changed');
    expect(tier).toMatchObject({ entity_id: 'pro', before: { monthly_token_limit: 10000000 }, after: { monthly_token_limit: 20000000 } });
    expect((await entries('quota.limits_changed')).length).toBe(before + 1);
    // A change that changes nothing writes nothing.
    await t.rows(sql`update quota_tiers set name = 'Pro plan' where id = 'pro'`);
    expect((await entries('tier.limits_changed')).length).toBe(1);
  });

  it('users read the entries about themselves, and no one else\'s', async () => {
    const other = await signUpLocal(t.db, { email: 'other@example.com' });
    const own = await withClaims(t.db, { role: 'authenticated', sub: user }, (tx) => queryRows(tx, sql`select subject_id from audit_log`));
    expect(own.length).toBeGreaterThan(0);
    expect(new Set(own.map((r: any) => r.subject_id))).toEqual(new Set([user]));
    const theirs = await withClaims(t.db, { role: 'authenticated', sub: other }, (tx) => queryRows(tx, sql`select 1 from audit_log`));
    expect(theirs).toEqual([]);
  });

  it('entries written through the API get the database\'s time and role: no backdating, no borrowed name', async () => {
    await withClaims(t.db, { role: 'service_role' }, (tx) =>
      queryRows(tx, sql`insert into audit_log (occurred_at, actor_role, subject_id, action, entity_type)
        values ('2001-01-01', 'postgres', ${user}, 'support.note', 'profiles')`),
    );
    const [e] = await t.rows<{ actor_role: string; recent: boolean }>(
      sql`select actor_role, occurred_at > now() - interval '1 minute' as recent from audit_log where action = 'support.note'`,
    );
    expect(e).toEqual({ actor_role: 'service_role', recent: true });
  });

  it('a purge leaves a record of itself', async () => {
    const [r] = await withClaims(t.db, { role: 'service_role' }, (tx) => queryRows<{ n: number }>(tx, sql`select public.purge_audit_log(interval '365 days') as n`));
    const [e] = await t.rows<{ after: { purged: number } }>(sql`select after from audit_log where action = 'audit.purged'`);
    expect(e!.after.purged).toBe(Number(r!.n));
  });
});

