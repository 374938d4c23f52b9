import { sql, type SQL } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../../src/db.js';
import { pgErrorOf } from '../../src/errors.js';
import { signUpLocal } from '../../src/local/auth.js';
import { recordUsage } from '../../src/queries/usage.js';
import { createOrganisation } from '../../src/queries/organisations.js';
import { withClaims } from '../../src/auth/withClaims.js';
import { freshDatabase, type TestDatabase } from '../support/database.js';
import { addPrice, startTestSession } from '../support/fixtures.js';

// Who may do what, relation by relation, tried from the attacker's side.
// The relations come from the catalog: a table or view in public that this
// spec does not decide fails the first test.

type Actor = 'anon' | 'owner' | 'other' | 'service';
type Op = 'select' | 'insert' | 'update' | 'delete';
const actors: Actor[] = ['anon', 'owner', 'other', 'service'];
const ops: Op[] = ['select', 'insert', 'update', 'delete'];

interface Ctx {
  a: string; // the owner of the rows under attack
  b: string; // another signed-in user
  sessionA: string;
  /** An organisation the owner owns (the other user is in one of their own). */
  orgA: string;
}

interface RelationSpec {
  /** Rows of the owner (or the matrix's own reference rows). */
  filter: (c: Ctx) => SQL;
  /** A valid row owned by the owner, to insert. */
  insert: (c: Ctx) => SQL;
  /** Run as the superuser in the same transaction first (e.g. make room for a one-per-user row). */
  prepareInsert?: (c: Ctx) => SQL;
  /** A no-op assignment for the update attempt. */
  update: string;
  /** Who is allowed, per operation (everyone else is denied). */
  allow: Record<Op, Actor[]>;
}

const key = () => `m-${Math.random().toString(36).slice(2)}`;
const userRows = (column: string) => (c: Ctx) => sql`${sql.identifier(column)} = ${c.a}::uuid`;
const serviceOnly: Actor[] = ['service'];
const ownerAndService: Actor[] = ['owner', 'service'];
const signedIn: Actor[] = ['owner', 'other', 'service'];

const orgRows = (c: Ctx) => sql`organisation_id = ${c.orgA}::uuid`;

const spec: Record<string, RelationSpec> = {
  organisations: {
    filter: (c) => sql`id = ${c.orgA}::uuid`,
    insert: () => sql`insert into public.organisations (name) values ('Matrix') returning 1`,
    update: 'name = name',
    // Created through create_organisation; tier and budget are billing's.
    allow: { select: ownerAndService, insert: serviceOnly, update: serviceOnly, delete: serviceOnly },
  },
  organisation_members: {
    // The organisation's plain members (its last owner cannot be removed by anyone).
    filter: (c) => sql`organisation_id = ${c.orgA}::uuid and role = 'member'`,
    insert: (c) => sql`insert into public.organisation_members (organisation_id, user_id) values (${c.orgA}::uuid, ${c.b}::uuid) returning 1`,
    update: 'role = role',
    // Users change memberships only through the membership functions.
    allow: { select: ownerAndService, insert: serviceOnly, update: serviceOnly, delete: serviceOnly },
  },
  organisation_invitations: {
    filter: orgRows,
    insert: (c) => sql`insert into public.organisation_invitations (organisation_id, email, token_hash, expires_at)
      values (${c.orgA}::uuid, 'new@example.com', sha256(convert_to(${key()}::text, 'UTF8')), now() + interval '1 day') returning 1`,
    update: 'email = email',
    // Made and accepted through the functions only; the owner (a manager) reads them.
    allow: { select: ownerAndService, insert: [], update: [], delete: serviceOnly },
  },
  organisation_usage_daily: {
    filter: orgRows,
    insert: (c) => sql`insert into public.organisation_usage_daily (organisation_id, date, provider, model, agent_mode)
      values (${c.orgA}::uuid, date_trunc('day', now() - interval '400 days', 'UTC'), 'openai', 'gpt-4.1', 'debug') returning 1`,
    update: 'request_count = request_count',
    allow: { select: ownerAndService, insert: [], update: [], delete: [] },
  },
  organisation_member_usage_daily: {
    filter: orgRows,
    insert: (c) => sql`insert into public.organisation_member_usage_daily (organisation_id, user_id, date)
      values (${c.orgA}::uuid, ${c.a}::uuid, date_trunc('day', now() - interval '400 days', 'UTC')) returning 1`,
    update: 'request_count = request_count',
    allow: { select: ownerAndService, insert: [], update: [], delete: [] },
  },
  organisation_usage_monthly: {
    filter: orgRows,
    insert: (c) => sql`insert into public.organisation_usage_monthly (organisation_id) values (${c.orgA}::uuid) returning 1`,
    update: 'provider = provider',
    allow: { select: ownerAndService, insert: [], update: [], delete: [] },
  },
  organisation_member_usage_monthly: {
    filter: orgRows,
    insert: (c) => sql`insert into public.organisation_member_usage_monthly (organisation_id) values (${c.orgA}::uuid) returning 1`,
    update: 'user_id = user_id',
    allow: { select: ownerAndService, insert: [], update: [], delete: [] },
  },
  quota_grants: {
    filter: userRows('user_id'),
    insert: (c) => sql`insert into public.quota_grants (user_id, tokens, reason, expires_at)
      values (${c.a}::uuid, 1000, 'matrix', now() + interval '1 day') returning 1`,
    update: 'voided_at = voided_at',
    // Given and voided by service_role (a column grant on voided_at); never deleted.
    allow: { select: ownerAndService, insert: serviceOnly, update: serviceOnly, delete: [] },
  },
  tier_model_limits: {
    filter: () => sql`tier_id = 'matrix'`,
    insert: () => sql`insert into public.tier_model_limits (tier_id, model_pattern, monthly_token_limit) values ('matrix', ${'openai/' + key()}, 1) returning 1`,
    update: 'monthly_token_limit = monthly_token_limit',
    allow: { select: signedIn, insert: serviceOnly, update: serviceOnly, delete: serviceOnly },
  },
  rate_limit_state: {
    filter: userRows('subject_id'),
    insert: () => sql`insert into public.rate_limit_state (subject_id, requests_at, tokens_at) values (gen_random_uuid(), now(), now()) returning 1`,
    update: 'requests_at = requests_at',
    // Written only by reserve_quota.
    allow: { select: ownerAndService, insert: [], update: [], delete: [] },
  },
  profiles: {
    filter: userRows('id'),
    prepareInsert: (c) => sql`delete from public.profiles where id = ${c.a}::uuid`,
    insert: (c) => sql`insert into public.profiles (id, email) values (${c.a}::uuid, 'again@example.com') returning 1`,
    update: 'display_name = display_name',
    allow: { select: ownerAndService, insert: serviceOnly, update: ownerAndService, delete: serviceOnly },
  },
  users: {
    filter: userRows('id'),
    prepareInsert: (c) => sql`delete from public.profiles where id = ${c.a}::uuid`,
    insert: (c) => sql`insert into public.users (id, email) values (${c.a}::uuid, 'again@example.com') returning 1`,
    update: 'display_name = display_name',
    allow: { select: ownerAndService, insert: serviceOnly, update: ownerAndService, delete: serviceOnly },
  },
  audit_log: {
    filter: userRows('subject_id'),
    insert: (c) => sql`insert into public.audit_log (subject_id, action, entity_type) values (${c.a}::uuid, 'test', 'test') returning 1`,
    update: 'action = action',
    allow: { select: ownerAndService, insert: serviceOnly, update: [], delete: [] },
  },
  ai_providers: {
    filter: () => sql`id = 'matrix'`,
    insert: () => sql`insert into public.ai_providers (id, display_name) values (${key()}, 'P') returning 1`,
    update: 'display_name = display_name',
    allow: { select: signedIn, insert: serviceOnly, update: serviceOnly, delete: serviceOnly },
  },
  model_prices: {
    filter: () => sql`model = 'matrix-model'`,
    insert: () => sql`insert into public.model_prices (provider, model, effective_from, input_per_mtok, output_per_mtok,
      cached_input_per_mtok, cache_write_per_mtok, reasoning_per_mtok) values ('openai', ${key()}, now(), 1, 1, 1, 1, 1) returning 1`,
    update: 'model = model',
    allow: { select: signedIn, insert: serviceOnly, update: serviceOnly, delete: serviceOnly },
  },
  quota_tiers: {
    filter: () => sql`id = 'matrix'`,
    insert: () => sql`insert into public.quota_tiers (id, name, monthly_token_limit, monthly_cost_limit_usd, daily_request_limit)
      values (${'t' + key().slice(2, 10)}, 'T', 1, 1, 1) returning 1`,
    update: 'name = name',
    allow: { select: signedIn, insert: serviceOnly, update: serviceOnly, delete: serviceOnly },
  },
  user_quotas: {
    filter: userRows('user_id'),
    prepareInsert: (c) => sql`delete from public.user_quotas where user_id = ${c.a}::uuid`,
    insert: (c) => sql`insert into public.user_quotas (user_id, tier_id, monthly_token_limit, monthly_cost_limit_usd,
      daily_request_limit, soft_limit_percent) values (${c.a}::uuid, 'free', 1, 1, 1, 80) returning 1`,
    update: 'reset_day = reset_day',
    allow: { select: ownerAndService, insert: serviceOnly, update: serviceOnly, delete: serviceOnly },
  },
  quota_reservations: {
    filter: userRows('user_id'),
    insert: (c) => sql`insert into public.quota_reservations (user_id, idempotency_key, estimated_tokens, expires_at)
      values (${c.a}::uuid, ${key()}, 1, now() + interval '1 hour') returning 1`,
    update: 'estimated_tokens = estimated_tokens',
    allow: { select: ownerAndService, insert: [], update: [], delete: [] }, // written only by the accounting functions (0014)
  },
  quota_alert_headroom: {
    filter: userRows('user_id'),
    insert: (c) => sql`insert into public.quota_alert_headroom (user_id, bucket, day_start, valid_until, tokens_left, cost_left_usd, requests_left)
      values (${c.a}::uuid, 9, now(), now() + interval '1 day', 'Infinity', 'Infinity', 'Infinity') returning 1`,
    update: 'tokens_left = tokens_left',
    // Written only by the accounting functions: a user who could raise their
    // share would never hear of a threshold.
    allow: { select: ownerAndService, insert: [], update: [], delete: [] },
  },
  quota_notifications: {
    filter: userRows('user_id'),
    insert: (c) => sql`insert into public.quota_notifications (user_id, kind, quota_limit, threshold_percent, period_start, used, limit_value)
      values (${c.a}::uuid, 'threshold_reached', 'monthly_tokens', 1, now() - interval '1 year', 1, 1) returning 1`,
    update: 'read_at = now()',
    // Written only by the accounting functions; the user sets read_at (a
    // column grant, tried further in notifications.test.ts); deliveries go
    // through the outbox functions, not service_role's own writes.
    allow: { select: ownerAndService, insert: [], update: ['owner'], delete: [] },
  },
  ai_usage_events: {
    filter: userRows('user_id'),
    insert: (c) => sql`insert into public.ai_usage_events (user_id, idempotency_key, provider, model, agent_mode, cost_usd, cost_source, status)
      values (${c.a}::uuid, ${key()}, 'openai', 'gpt-4.1', 'debug', 0, 'given', 'success') returning 1`,
    update: 'latency_ms = latency_ms',
    // Append-only for every API role: written only by record_usage and
    // record_adjustment, removed only by retention and account deletion.
    allow: { select: ownerAndService, insert: [], update: [], delete: [] },
  },
  ai_usage_event_keys: {
    filter: userRows('user_id'),
    insert: (c) => sql`insert into public.ai_usage_event_keys (user_id, idempotency_key, event_id, occurred_at)
      values (${c.a}::uuid, ${key()}, 1, now()) returning 1`,
    update: 'created_at = created_at',
    // Written only with their events by record_usage and record_adjustment;
    // removed by run_maintenance after the idempotency window.
    allow: { select: ownerAndService, insert: [], update: [], delete: [] },
  },
  ai_usage_daily: {
    filter: userRows('user_id'),
    insert: (c) => sql`insert into public.ai_usage_daily (user_id, date, provider, model, agent_mode)
      values (${c.a}::uuid, date_trunc('day', now() - interval '400 days', 'UTC'), 'openai', 'gpt-4.1', 'debug') returning 1`,
    update: 'request_count = request_count',
    allow: { select: ownerAndService, insert: [], update: [], delete: [] }, // written only by the accounting functions (0014)
  },
  ai_usage_monthly: {
    filter: userRows('user_id'),
    insert: (c) => sql`insert into public.ai_usage_monthly (user_id) values (${c.a}::uuid) returning 1`,
    update: 'provider = provider',
    allow: { select: ownerAndService, insert: [], update: [], delete: [] },
  },
  agent_sessions: {
    filter: userRows('user_id'),
    insert: (c) => sql`insert into public.agent_sessions (user_id, agent_mode) values (${c.a}::uuid, 'debug') returning 1`,
    update: 'title = title',
    // Deleting a session would delete its messages: sessions go only with the account.
    allow: { select: ownerAndService, insert: ownerAndService, update: ownerAndService, delete: [] },
  },
  agent_messages: {
    filter: userRows('user_id'),
    insert: (c) => sql`insert into public.agent_messages (session_id, user_id, role, content)
      values (${c.sessionA}::uuid, ${c.a}::uuid, 'user', 'hi') returning 1`,
    update: 'content = content',
    // Append-only for every API role, service_role included.
    allow: { select: ownerAndService, insert: ownerAndService, update: [], delete: [] },
  },
};

// Refusals: no privilege or a row-level security violation (42501), a view
// that cannot take writes (55000 / 0A000), or a trigger refusing the row.
const refusalCodes = new Set(['42501', '55000', '0A000', '22023', '23503']);

let t: TestDatabase;
let ctx: Ctx;

class Rollback {
  constructor(readonly rows: number) {}
}

function claimsFor(actor: Actor): { role: string; sub?: string } {
  switch (actor) {
    case 'anon':
      return { role: 'anon' };
    case 'owner':
      return { role: 'authenticated', sub: ctx.a };
    case 'other':
      return { role: 'authenticated', sub: ctx.b };
    case 'service':
      return { role: 'service_role' };
  }
}

function statementFor(relation: string, s: RelationSpec, op: Op): SQL {
  const name = sql.identifier(relation);
  switch (op) {
    case 'select':
      return sql`select 1 from public.${name} where ${s.filter(ctx)}`;
    case 'insert':
      return s.insert(ctx);
    case 'update':
      return sql`update public.${name} set ${sql.raw(s.update)} where ${s.filter(ctx)} returning 1`;
    case 'delete':
      return sql`delete from public.${name} where ${s.filter(ctx)} returning 1`;
  }
}

/** Tries one operation as one actor in a transaction that is always rolled back. */
async function attempt(relation: string, op: Op, actor: Actor): Promise<'allow' | 'deny'> {
  const s = spec[relation]!;
  const claims = claimsFor(actor);
  try {
    await t.db.transaction(async (tx) => {
      if (op === 'insert' && s.prepareInsert) await tx.execute(s.prepareInsert(ctx));
      await tx.execute(
        sql`select set_config('role', ${claims.role}, true), set_config('request.jwt.claims', ${JSON.stringify(claims)}, true)`,
      );
      const rows = await queryRows(tx, statementFor(relation, s, op));
      throw new Rollback(rows.length);
    });
  } catch (error) {
    if (error instanceof Rollback) return error.rows > 0 ? 'allow' : 'deny';
    const e = pgErrorOf(error);
    if (e.code && refusalCodes.has(e.code)) return 'deny';
    throw error;
  }
  throw new Error('unreachable');
}

beforeAll(async () => {
  t = await freshDatabase();
  const a = await signUpLocal(t.db, { email: 'a@example.com', emailConfirmed: true });
  const b = await signUpLocal(t.db, { email: 'b@example.com', emailConfirmed: true });
  // Rows of both users in every table, and the matrix's own reference rows.
  const sessions: string[] = [];
  for (const user of [a, b]) {
    const session = await startTestSession(t, user);
    sessions.push(session);
    await t.rows(sql`insert into agent_messages (session_id, role, content) values (${session}, 'user', 'hello')`);
    await recordUsage(t.db, { userId: user, idempotencyKey: 'seed', provider: 'ollama', model: 'llama3', agentMode: 'debug', inputTokens: 10, sessionId: session });
    await t.rows(sql`insert into quota_reservations (user_id, idempotency_key, estimated_tokens, expires_at) values (${user}, 'seed', 5, now() + interval '1 hour')`);
    await t.rows(sql`update user_quotas set monthly_token_limit_override = 123456 where user_id = ${user}`);
    await t.rows(sql`insert into quota_notifications (user_id, kind, quota_limit, threshold_percent, period_start, used, limit_value)
      values (${user}, 'threshold_reached', 'monthly_tokens', 50, date_trunc('month', now()), 70000, 123456)`);
    // A limit change drops the alert headroom; the next request shares it out again.
    await recordUsage(t.db, { userId: user, idempotencyKey: 'seed-2', provider: 'ollama', model: 'llama3', agentMode: 'debug', inputTokens: 10 });
  }
  await t.rows(sql`insert into ai_providers (id, display_name) values ('matrix', 'Matrix')`);
  await addPrice(t, { provider: 'openai', model: 'matrix-model', inputPerMtok: 1, outputPerMtok: 1, cachedInputPerMtok: 1, cacheWritePerMtok: 1, reasoningPerMtok: 1 });
  await t.rows(sql`insert into quota_tiers (id, name, monthly_token_limit, monthly_cost_limit_usd, daily_request_limit)
    values ('matrix', 'Matrix', 1, 1, 1)`);
  // An organisation of each user, with a plain member and usage of its own.
  const orgs: string[] = [];
  for (const user of [a, b]) {
    const org = await withClaims(t.db, { role: 'authenticated', sub: user }, (tx) => createOrganisation(tx, { name: 'Matrix' }));
    orgs.push(org);
    const member = await signUpLocal(t.db, { email: `member-${orgs.length}@example.com`, emailConfirmed: true });
    await t.rows(sql`insert into organisation_members (organisation_id, user_id, role) values (${org}, ${member}, 'member')`);
    await recordUsage(t.db, { userId: user, idempotencyKey: 'org', provider: 'ollama', model: 'llama3', agentMode: 'debug', inputTokens: 3, organisationId: org });
    await t.rows(sql`insert into organisation_invitations (organisation_id, email, token_hash, expires_at)
      values (${org}, 'invited@example.com', sha256(convert_to(${org}::text, 'UTF8')), now() + interval '1 day')`);
    await t.rows(sql`insert into quota_grants (user_id, tokens, reason, expires_at) values (${user}, 100, 'seed', now() + interval '1 day')`);
    await t.rows(sql`insert into rate_limit_state (subject_id, requests_at, tokens_at) values (${user}, now(), now())`);
  }
  await t.rows(sql`insert into tier_model_limits (tier_id, model_pattern, monthly_token_limit) values ('matrix', 'openai/*', 10)`);
  ctx = { a, b, sessionA: sessions[0]!, orgA: orgs[0]! };
});
afterAll(() => t?.close());

/** Every table and view in public, from the catalog. */
async function catalogRelations(): Promise<string[]> {
  const rows = await t.rows<{ name: string }>(sql`
    select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'f') order by 1`);
  return rows.map((r) => r.name);
}

/** What each attempt made below actually gave, by "relation op actor". */
const attempted = new Map<string, 'allow' | 'deny'>();
const attemptKey = (relation: string, op: Op, actor: Actor) => `${relation} ${op} ${actor}`;

describe('access matrix', () => {
  it('every table and view in public has a decision here', async () => {
    expect(await catalogRelations()).toEqual(Object.keys(spec).sort());
  });

  const cases = Object.keys(spec).flatMap((relation) =>
    ops.flatMap((op) => actors.map((actor) => [relation, op, actor] as const)),
  );
  it.each(cases)('%s: %s as %s', async (relation, op, actor) => {
    const expected = spec[relation]!.allow[op].includes(actor) ? 'allow' : 'deny';
    const outcome = await attempt(relation, op, actor);
    attempted.set(attemptKey(relation, op, actor), outcome);
    expect(outcome).toBe(expected);
  });

  // Runs after the cases above (tests of a file run in order): checks the
  // attempts that were really made, whatever the list of cases says. Running
  // only part of the matrix (vitest -t) therefore fails it, as it should.
  it('every relation in the catalog was tried with every operation by every actor, and was both refused and let through', async () => {
    const relations = await catalogRelations();
    const everyAttempt = relations.flatMap((relation) => ops.flatMap((op) => actors.map((actor) => attemptKey(relation, op, actor))));
    expect([...attempted.keys()].sort()).toEqual(everyAttempt.sort());
    for (const relation of relations) {
      const outcomes = ops.flatMap((op) => actors.map((actor) => attempted.get(attemptKey(relation, op, actor))));
      expect(outcomes, `${relation}: nobody was refused`).toContain('deny');
      // Each operation the spec allows anyone was seen to succeed: its
      // statement touches real rows, so the refusals around it mean something.
      for (const op of ops) {
        if ((spec[relation]?.allow[op] ?? []).length === 0) continue;
        const seen = actors.map((actor) => attempted.get(attemptKey(relation, op, actor)));
        expect(seen, `${relation}: ${op} never succeeded`).toContain('allow');
      }
    }
  });
});
