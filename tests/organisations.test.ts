import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withClaims } from '../src/auth/withClaims.js';
import type { Tx } from '../src/db.js';
import { queryRows } from '../src/db.js';
import { ValidationError, pgErrorOf } from '../src/errors.js';
import { signUpLocal } from '../src/local/auth.js';
import {
  acceptInvitation,
  createOrganisation,
  getOrganisationQuotaStatus,
  inviteMember,
  removeMember,
  revokeInvitation,
  setDefaultMemberCaps,
  setMemberCaps,
  setMemberRole,
} from '../src/queries/organisations.js';
import { getQuotaStatus } from '../src/queries/quotas.js';
import { recordAdjustment, recordUsage } from '../src/queries/usage.js';
import { freshDatabase, sql, type TestDatabase } from './support/database.js';

// Organisations: membership, invitations and the usage of an organisation,
// as their members, their managers and outsiders see them.
let t: TestDatabase;
let n = 0;
const key = () => `o-${++n}`;
const usage = { provider: 'ollama', model: 'llama3', agentMode: 'debug' as const };

const as = <T>(userId: string, fn: (tx: Tx) => Promise<T>) => withClaims(t.db, { role: 'authenticated', sub: userId }, fn);
/** The refusal a call ends in: SQLSTATE and message (a ValidationError keeps the database's error as its cause). */
const refusal = async (p: Promise<unknown>) => {
  const error = await p.then(() => null, (e: unknown) => e);
  if (error === null) throw new Error('expected a refusal, the call succeeded');
  const e = pgErrorOf(error);
  return { code: e.code, message: error instanceof ValidationError ? error.message : e.message };
};
const user = (name: string, verified = true) => signUpLocal(t.db, { email: `${name}-${++n}@example.com`, emailConfirmed: verified });
const emailOf = async (id: string) => (await t.rows<{ email: string }>(sql`select email from profiles where id = ${id}`))[0]!.email;

/** An organisation of `owner` with `members` joined through invitations (role member unless given). */
async function team(owner: string, members: Array<string | [string, 'admin' | 'member' | 'owner']>) {
  const org = await as(owner, (tx) => createOrganisation(tx, { name: `Team ${++n}` }));
  for (const entry of members) {
    const [id, role] = typeof entry === 'string' ? [entry, 'member' as const] : entry;
    const email = await emailOf(id);
    const invitation = await as(owner, (tx) => inviteMember(tx, { organisationId: org, email, role }));
    await as(id, (tx) => acceptInvitation(tx, { token: invitation.token }));
  }
  return org;
}

beforeAll(async () => {
  t = await freshDatabase();
});
afterAll(() => t?.close());

describe('membership', () => {
  it('the creator owns the organisation on the team tier; an invitation joins with its role, once', async () => {
    const owner = await user('owner');
    const bob = await user('bob');
    const org = await as(owner, (tx) => createOrganisation(tx, { name: '  Acme  ' }));
    const [row] = await t.rows<{ name: string; tier_id: string; created_by: string }>(sql`select name, tier_id, created_by from organisations where id = ${org}`);
    expect(row).toEqual({ name: 'Acme', tier_id: 'team', created_by: owner });

    const bobEmail = await emailOf(bob);
    const invitation = await as(owner, (tx) => inviteMember(tx, { organisationId: org, email: bobEmail.toUpperCase(), role: 'admin' }));
    expect(invitation.token).toMatch(/^[0-9a-f]{64}$/);
    // Only the hash is kept.
    const [stored] = await t.rows<{ email: string; hashed: boolean }>(sql`select email,
      token_hash = sha256(convert_to(${invitation.token}, 'UTF8')) as hashed from organisation_invitations where id = ${invitation.invitationId}`);
    expect(stored).toEqual({ email: bobEmail, hashed: true });
    expect(await as(bob, (tx) => acceptInvitation(tx, { token: invitation.token }))).toBe(org);
    const members = await as(bob, (tx) => queryRows<Record<string, any>>(tx, sql`select user_id::text, role::text from organisation_members where organisation_id = ${org} order by role`));
    expect(members).toEqual([
      { user_id: bob, role: 'admin' },
      { user_id: owner, role: 'owner' },
    ]);
    // Reused: refused, and nothing changes.
    expect(await refusal(as(bob, (tx) => acceptInvitation(tx, { token: invitation.token })))).toEqual({ code: '42501', message: 'token: has already been used' });
  });

  it('an invitation is for its email only, verified, before it expires and unless revoked', async () => {
    const owner = await user('owner');
    const invited = await user('invited');
    const other = await user('other');
    const unverified = await signUpLocal(t.db, { email: `late-${++n}@example.com` });
    const org = await team(owner, []);
    const invite = (email: string, ttlSeconds?: number) => as(owner, (tx) => inviteMember(tx, { organisationId: org, email, ttlSeconds }));

    const forInvited = await invite(await emailOf(invited));
    expect(await refusal(as(other, (tx) => acceptInvitation(tx, { token: forInvited.token })))).toMatchObject({ code: '42501', message: expect.stringMatching(/^token: was sent to another email/) });
    const forUnverified = await invite(await emailOf(unverified));
    expect((await refusal(as(unverified, (tx) => acceptInvitation(tx, { token: forUnverified.token })))).code).toBe('42501');

    const expiring = await invite(await emailOf(invited), 60);
    await t.rows(sql`update organisation_invitations set expires_at = now() - interval '1 second' where id = ${expiring.invitationId}`);
    expect(await refusal(as(invited, (tx) => acceptInvitation(tx, { token: expiring.token })))).toEqual({ code: '42501', message: 'token: has expired' });

    expect(await as(owner, (tx) => revokeInvitation(tx, { invitationId: forInvited.invitationId }))).toBe(true);
    expect(await refusal(as(invited, (tx) => acceptInvitation(tx, { token: forInvited.token })))).toEqual({ code: '42501', message: 'token: was revoked' });
    // A made-up token, and one of the wrong shape (caught in TypeScript).
    expect((await refusal(as(invited, (tx) => acceptInvitation(tx, { token: 'f'.repeat(64) })))).code).toBe('42501');
    expect(await refusal(as(invited, (tx) => acceptInvitation(tx, { token: 'nope' })))).toEqual({ code: undefined, message: 'token: is not an invitation token' });

    const [count] = await t.rows<{ n: number }>(sql`select count(*)::int as n from organisation_members where organisation_id = ${org}`);
    expect(count!.n).toBe(1);
  });

  it('who may invite, change roles and remove: owners and admins, never about themselves, admins never about owners', async () => {
    const owner = await user('owner');
    const admin = await user('admin');
    const member = await user('member');
    const outsider = await user('outsider');
    const org = await team(owner, [[admin, 'admin'], member]);

    // A member invites nobody; an outsider does nothing; an admin invites no owner.
    expect((await refusal(as(member, (tx) => inviteMember(tx, { organisationId: org, email: 'x@example.com' })))).code).toBe('42501');
    expect((await refusal(as(outsider, (tx) => inviteMember(tx, { organisationId: org, email: 'x@example.com' })))).code).toBe('42501');
    expect(await refusal(as(admin, (tx) => inviteMember(tx, { organisationId: org, email: 'x@example.com', role: 'owner' })))).toEqual({ code: '42501', message: 'role: only an owner may invite an owner' });

    // Nobody changes their own role; an admin neither makes nor demotes an owner.
    expect(await refusal(as(member, (tx) => setMemberRole(tx, { organisationId: org, userId: member, role: 'admin' })))).toMatchObject({ code: '42501' });
    expect(await refusal(as(admin, (tx) => setMemberRole(tx, { organisationId: org, userId: admin, role: 'owner' })))).toEqual({ code: '42501', message: 'user_id: nobody changes their own role' });
    expect((await refusal(as(admin, (tx) => setMemberRole(tx, { organisationId: org, userId: member, role: 'owner' })))).code).toBe('42501');
    expect((await refusal(as(admin, (tx) => setMemberRole(tx, { organisationId: org, userId: owner, role: 'member' })))).code).toBe('42501');
    expect(await as(admin, (tx) => setMemberRole(tx, { organisationId: org, userId: member, role: 'admin' }))).toBe(true);
    expect(await as(admin, (tx) => setMemberRole(tx, { organisationId: org, userId: member, role: 'member' }))).toBe(true);

    // Direct writes are refused: every change goes through the functions.
    const direct = await refusal(as(admin, (tx) => queryRows<Record<string, any>>(tx, sql`update organisation_members set role = 'owner' where user_id = ${admin}`)));
    expect(direct.code).toBe('42501');

    // An admin removes a member but not an owner; a member removes nobody but themselves.
    expect((await refusal(as(admin, (tx) => removeMember(tx, { organisationId: org, userId: owner })))).code).toBe('42501');
    expect((await refusal(as(member, (tx) => removeMember(tx, { organisationId: org, userId: admin })))).code).toBe('42501');
    expect(await as(member, (tx) => removeMember(tx, { organisationId: org, userId: member }))).toBe(true);
    expect(await as(admin, (tx) => removeMember(tx, { organisationId: org, userId: member }))).toBe(false);

    // The last owner can neither leave nor be demoted, by anyone, service_role included.
    expect(await refusal(as(owner, (tx) => removeMember(tx, { organisationId: org, userId: owner })))).toEqual({
      code: '23514',
      message: 'user_id: is the last owner: make another member owner first',
    });
    expect((await refusal(t.rows(sql`delete from organisation_members where user_id = ${owner} and organisation_id = ${org}`))).code).toBe('23514');
    // With a second owner, the first may go.
    expect(await as(owner, (tx) => setMemberRole(tx, { organisationId: org, userId: admin, role: 'owner' }))).toBe(true);
    expect(await as(owner, (tx) => removeMember(tx, { organisationId: org, userId: owner }))).toBe(true);
  });

  it('every membership change is in the audit log, with who did it', async () => {
    const owner = await user('owner');
    const bob = await user('bob');
    const org = await team(owner, [bob]);
    await as(owner, (tx) => setMemberRole(tx, { organisationId: org, userId: bob, role: 'admin' }));
    await as(owner, (tx) => setMemberCaps(tx, { organisationId: org, userId: bob, monthlyTokens: 1000, monthlyCostUsd: null }));
    await as(owner, (tx) => removeMember(tx, { organisationId: org, userId: bob }));
    const entries = await t.rows<{ action: string; actor_id: string; subject_id: string | null; before: any; after: any }>(sql`
      select action, actor_id, subject_id, before, after from audit_log
      where entity_type in ('organisations', 'organisation_members', 'organisation_invitations')
        and (entity_id like ${org + '%'} or after ->> 'organisation_id' = ${org} or before ->> 'organisation_id' = ${org})
      order by id`);
    expect(entries.map((e) => e.action)).toEqual([
      'organisation.created',
      'organisation_member.created',
      'organisation_invitation.created',
      'organisation_invitation.changed',
      'organisation_member.created',
      'organisation_member.changed',
      'organisation_member.changed',
      'organisation_member.deleted',
    ]);
    const roleChange = entries[5]!;
    expect(roleChange).toMatchObject({ actor_id: owner, subject_id: bob, before: { role: 'member' }, after: { role: 'admin' } });
    expect(entries[6]!.after.token_cap_override).toBe(1000);
    expect(entries[7]!).toMatchObject({ subject_id: bob, after: null });
    // The invitation's token hash is nowhere in the log.
    expect(JSON.stringify(entries)).not.toContain('token_hash');
  });

  it('caps fit in the budget; only owners and admins set them', async () => {
    const owner = await user('owner');
    const bob = await user('bob');
    const org = await team(owner, [bob]);
    expect(await refusal(as(owner, (tx) => setMemberCaps(tx, { organisationId: org, userId: bob, monthlyTokens: 60_000_000, monthlyCostUsd: null })))).toEqual({
      code: '22023',
      message: "monthly_tokens: must be empty or between 0 and the organisation's limit of 50000000 tokens",
    });
    expect((await refusal(as(bob, (tx) => setDefaultMemberCaps(tx, { organisationId: org, monthlyTokens: 1, monthlyCostUsd: null })))).code).toBe('42501');
    // NaN and negative amounts never reach the database.
    expect(await refusal(as(owner, (tx) => setDefaultMemberCaps(tx, { organisationId: org, monthlyTokens: null, monthlyCostUsd: 'NaN' })))).toMatchObject({ code: undefined });
    expect((await refusal(t.rows(sql`select set_default_member_caps(${org}::uuid, null, 'NaN'::numeric)`))).code).toBe('42501');
    await as(owner, (tx) => setDefaultMemberCaps(tx, { organisationId: org, monthlyTokens: 5000, monthlyCostUsd: '1.5' }));
    const status = await as(bob, (tx) => getOrganisationQuotaStatus(tx, { organisationId: org }));
    expect(status!.member).toMatchObject({ userId: bob, role: 'member', tokenCap: 5000, costCapUsd: '1.5000', tokensRemaining: 5000 });
  });
});

describe('usage of an organisation', () => {
  it('counts against the organisation and the member, not the personal quota; exact in the same transaction', async () => {
    const owner = await user('owner');
    const bob = await user('bob');
    const org = await team(owner, [bob]);
    const personalBefore = (await getQuotaStatus(t.db, { userId: bob }))!;
    await t.db.transaction(async (tx) => {
      await recordUsage(tx, { ...usage, userId: bob, idempotencyKey: key(), inputTokens: 700, outputTokens: 300, organisationId: org });
      await recordUsage(tx, { ...usage, provider: 'openai', model: 'gpt-x', costUsd: '0.25', userId: owner, idempotencyKey: key(), inputTokens: 50, organisationId: org });
      const s = (await getOrganisationQuotaStatus(tx, { organisationId: org, userId: bob }))!;
      expect(s).toMatchObject({ tokensUsed: 1050, costUsedUsd: '0.2500000000', requestsToday: 2 });
      expect(s.member).toMatchObject({ tokensUsed: 1000, costUsedUsd: '0.0000000000' });
    });
    const personalAfter = (await getQuotaStatus(t.db, { userId: bob }))!;
    expect(personalAfter.tokensUsed).toBe(personalBefore.tokensUsed);
    expect(personalAfter.requestsToday).toBe(personalBefore.requestsToday);
    const [personalRows] = await t.rows<{ n: number }>(sql`select count(*)::int as n from ai_usage_daily where user_id = ${bob}`);
    expect(personalRows!.n).toBe(0);

    // The monthly views, read as a member and as the owner.
    const month = await as(bob, (tx) => queryRows<Record<string, any>>(tx, sql`select provider, total_tokens::int as t from organisation_usage_monthly where organisation_id = ${org} order by provider`));
    expect(month).toEqual([
      { provider: 'ollama', t: 1000 },
      { provider: 'openai', t: 50 },
    ]);
    const perMemberAsBob = await as(bob, (tx) => queryRows<Record<string, any>>(tx, sql`select user_id::text from organisation_member_usage_monthly where organisation_id = ${org}`));
    expect(perMemberAsBob.map((r) => r.user_id)).toEqual([bob]);
    const perMemberAsOwner = await as(owner, (tx) => queryRows<Record<string, any>>(tx, sql`select user_id::text, total_tokens::int as t from organisation_member_usage_monthly where organisation_id = ${org} order by t`));
    expect(perMemberAsOwner).toEqual([
      { user_id: owner, t: 50 },
      { user_id: bob, t: 1000 },
    ]);
  });

  it('a user records for an organisation only as its member; the field is named and nothing is written', async () => {
    const owner = await user('owner');
    const outsider = await user('outsider');
    const org = await team(owner, []);
    const e = await refusal(recordUsage(t.db, { ...usage, userId: outsider, idempotencyKey: key(), inputTokens: 5, organisationId: org }));
    expect(e).toEqual({ code: '23503', message: 'organisation_id: is not an organisation of this user' });
    const [events] = await t.rows<{ n: number }>(sql`select count(*)::int as n from ai_usage_events where user_id = ${outsider}`);
    expect(events!.n).toBe(0);
  });

  it('a correction of an organisation\'s request lands in the organisation\'s rows', async () => {
    const owner = await user('owner');
    const org = await team(owner, []);
    const recorded = await recordUsage(t.db, { ...usage, provider: 'openai', model: 'gpt-x', costUsd: '1', userId: owner, idempotencyKey: key(), inputTokens: 500, organisationId: org });
    await recordAdjustment(t.db, { eventId: recorded.eventId, idempotencyKey: key(), reason: 'provider invoice', inputTokens: -100, costUsd: '-0.4' });
    const s = (await getOrganisationQuotaStatus(t.db, { organisationId: org, userId: owner }))!;
    expect(s).toMatchObject({ tokensUsed: 400, costUsedUsd: '0.6000000000' });
    expect(s.member).toMatchObject({ tokensUsed: 400, costUsedUsd: '0.6000000000' });
    const [event] = await t.rows<{ organisation_id: string }>(sql`select organisation_id from ai_usage_events where kind = 'adjustment' and adjusts_event_id = ${recorded.eventId}`);
    expect(event!.organisation_id).toBe(org);
  });
});

describe('who reads what', () => {
  it('a member reads their organisation, its members and totals; nobody reads another organisation', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const mallory = await user('mallory');
    const orgA = await team(alice, [bob]);
    const orgM = await team(mallory, []);
    await recordUsage(t.db, { ...usage, userId: bob, idempotencyKey: key(), inputTokens: 10, organisationId: orgA });
    await recordUsage(t.db, { ...usage, userId: mallory, idempotencyKey: key(), inputTokens: 10, organisationId: orgM });
    const seen = (who: string, table: string) =>
      as(who, (tx) => queryRows<Record<string, any>>(tx, sql`select distinct ${sql.identifier(table === 'organisations' ? 'id' : 'organisation_id')}::text as o from ${sql.identifier(table)}`)).then((rows) => rows.map((r) => r.o).sort());
    for (const table of ['organisations', 'organisation_members', 'organisation_usage_daily', 'organisation_member_usage_daily']) {
      expect(await seen(mallory, table), table).toEqual([orgM]);
      expect(await seen(bob, table), table).toEqual([orgA]);
    }
    // A member reads no invitations and no other member's usage; status of another member is not theirs to see.
    expect(await seen(bob, 'organisation_invitations')).toEqual([]);
    expect(await as(bob, (tx) => getOrganisationQuotaStatus(tx, { organisationId: orgA, userId: alice }))).toBeNull();
    expect(await as(mallory, (tx) => getOrganisationQuotaStatus(tx, { organisationId: orgA }))).toBeNull();
    expect(await withClaims(t.db, { role: 'authenticated' }, (tx) => getOrganisationQuotaStatus(tx, { organisationId: orgA }))).toBeNull();
    expect((await as(alice, (tx) => getOrganisationQuotaStatus(tx, { organisationId: orgA, userId: bob })))!.member.tokensUsed).toBe(10);
    // anon reads nothing at all.
    const anon = await refusal(withClaims(t.db, { role: 'anon' }, (tx) => queryRows<Record<string, any>>(tx, sql`select * from organisations`)));
    expect(anon.code).toBe('42501');
  });

  it('an admin cannot raise the budget, the tier or the per-minute limits: they are billing\'s', async () => {
    const owner = await user('owner');
    const org = await team(owner, []);
    for (const assignment of ['tier_id = \'team\'', 'monthly_token_limit_override = 999999999', 'monthly_cost_limit_usd_override = 99999', 'requests_per_minute_override = 100000', 'name = \'x\'']) {
      const e = await refusal(as(owner, (tx) => queryRows<Record<string, any>>(tx, sql`update organisations set ${sql.raw(assignment)} where id = ${org}`)));
      expect(e.code, assignment).toBe('42501');
    }
    expect((await refusal(as(owner, (tx) => queryRows<Record<string, any>>(tx, sql`insert into quota_grants (organisation_id, tokens, reason, expires_at) values (${org}, 1000000, 'me', now() + interval '1 day')`)))).code).toBe('42501');
    // service_role may, and the change is audited.
    await withClaims(t.db, { role: 'service_role' }, (tx) => queryRows<Record<string, any>>(tx, sql`update organisations set monthly_token_limit_override = 1000 where id = ${org}`));
    const [entry] = await t.rows<{ actor_role: string; before: any; after: any }>(sql`select actor_role, before, after from audit_log
      where entity_type = 'organisations' and entity_id = ${org} and action = 'organisation.changed' order by id desc limit 1`);
    expect(entry).toMatchObject({ actor_role: 'service_role', before: { monthly_token_limit_override: null }, after: { monthly_token_limit_override: 1000 } });
  });
});
