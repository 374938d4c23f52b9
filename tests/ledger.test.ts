// The ledger is append-only for every API role, service_role included: usage
// events come only through record_usage (corrections through
// record_adjustment), messages are never rewritten, moved or deleted, a
// session's figures start at zero whoever inserts it, and a session never ends
// before its last activity. Each attack below worked with the backend's key
// before; each is refused now, and the totals still equal their raw rows.
import { sql, type SQL } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asService, withClaims } from '../src/auth/withClaims.js';
import { queryRows } from '../src/db.js';
import { pgErrorOf, ValidationError } from '../src/errors.js';
import { signUpLocal } from '../src/local/auth.js';
import { appendMessage } from '../src/queries/sessions.js';
import { recordAdjustment, recordUsage } from '../src/queries/usage.js';
import { freshDatabase, type TestDatabase } from './support/database.js';
import { startTestSession } from './support/fixtures.js';

let t: TestDatabase;
let user: string;
let session: string;
let n = 0;
const key = () => `l-${++n}`;

beforeAll(async () => {
  t = await freshDatabase();
  user = await signUpLocal(t.db, { email: 'ledger@example.com' });
  session = await startTestSession(t, user);
});
afterAll(() => t?.close());

const asBackend = (statement: SQL) => asService(t.db, (tx) => queryRows(tx, statement));
const refusal = async (p: Promise<unknown>) => pgErrorOf(await p.then(() => null, (e: unknown) => e));

/** Raw events against daily totals and the session, for `user`. */
async function books() {
  const [row] = await t.rows<Record<string, string>>(sql`select
    (select coalesce(sum(total_tokens), 0)::text from ai_usage_events where user_id = ${user}) as raw_tokens,
    (select coalesce(sum(cost_usd), 0)::text from ai_usage_events where user_id = ${user}) as raw_cost,
    (select count(*)::text from ai_usage_events where user_id = ${user} and kind = 'request') as raw_requests,
    (select coalesce(sum(total_tokens), 0)::text from ai_usage_daily where user_id = ${user}) as daily_tokens,
    (select coalesce(sum(cost_usd), 0)::text from ai_usage_daily where user_id = ${user}) as daily_cost,
    (select coalesce(sum(request_count), 0)::text from ai_usage_daily where user_id = ${user}) as daily_requests,
    (select total_tokens::text from agent_sessions where id = ${session}) as session_tokens,
    (select cost_usd::text from agent_sessions where id = ${session}) as session_cost`);
  return row!;
}

function expectBalanced(b: Record<string, string>) {
  expect(b.daily_tokens).toBe(b.raw_tokens);
  expect(Number(b.daily_cost)).toBe(Number(b.raw_cost));
  expect(b.daily_requests).toBe(b.raw_requests);
}

describe('usage events: only through record_usage and record_adjustment', () => {
  it('the backend cannot insert an event behind the daily totals, nor rewrite or delete one', async () => {
    const event = await recordUsage(t.db, { userId: user, idempotencyKey: key(), provider: 'openai', model: 'gpt-4.1', agentMode: 'debug',
      inputTokens: 1000, costUsd: '0.5', sessionId: session });
    const before = await books();
    expect((await refusal(asBackend(sql`insert into ai_usage_events (user_id, idempotency_key, provider, model, agent_mode, input_tokens,
      cost_usd, cost_source, status) values (${user}, ${key()}, 'openai', 'gpt-4.1', 'debug', 1000000, 0, 'given', 'success')`))).code).toBe('42501');
    expect((await refusal(asBackend(sql`update ai_usage_events set input_tokens = 0, cost_usd = 0 where id = ${event.eventId}`))).code).toBe('42501');
    expect((await refusal(asBackend(sql`delete from ai_usage_events where id = ${event.eventId}`))).code).toBe('42501');
    expect(await books()).toEqual(before);
    expectBalanced(before);
  });

  it('a correction is a signed adjustment through the same totals and the audit log', async () => {
    const event = await recordUsage(t.db, { userId: user, idempotencyKey: key(), provider: 'openai', model: 'gpt-4.1', agentMode: 'implement',
      inputTokens: 2000, outputTokens: 500, costUsd: '0.0400000000', sessionId: session });
    const before = await books();
    const fix = await asService(t.db, (tx) => recordAdjustment(tx, { eventId: event.eventId, idempotencyKey: key(),
      reason: 'provider invoice: 300 input tokens were cached', inputTokens: -300, cachedInputTokens: 300, costUsd: '-0.0006' }));
    expect(fix).toMatchObject({ duplicate: false, totalTokens: 0, costUsd: '-0.0006000000' });
    const after = await books();
    expectBalanced(after);
    expect(after.daily_requests).toBe(before.daily_requests); // a correction is no new request
    expect(Number(after.daily_cost)).toBeCloseTo(Number(before.daily_cost) - 0.0006, 10);
    expect(Number(after.session_cost)).toBeCloseTo(Number(before.session_cost) - 0.0006, 10);
    const [row] = await t.rows<{ kind: string; adjusts: number; day_total: string }>(sql`select e.kind::text, e.adjusts_event_id::int as adjusts,
        (select sum(input_tokens)::text from ai_usage_daily d where d.user_id = e.user_id and d.model = e.model and d.agent_mode = 'implement') as day_total
      from ai_usage_events e where e.id = ${fix.eventId}`);
    expect(row).toEqual({ kind: 'adjustment', adjusts: event.eventId, day_total: '1700' });
    const [audit] = await t.rows<{ action: string; entity_id: string; before: Record<string, unknown>; after: Record<string, unknown>; actor_role: string }>(
      sql`select action, entity_id, before, after, actor_role from audit_log where action = 'usage.adjusted' order by id desc limit 1`);
    expect(audit).toMatchObject({
      action: 'usage.adjusted', entity_id: String(event.eventId), actor_role: 'service_role',
      before: { input_tokens: 2000, cached_input_tokens: 0 },
      after: { input_tokens: 1700, cached_input_tokens: 300, reason: 'provider invoice: 300 input tokens were cached', adjustment_event_id: fix.eventId },
    });
    // A retry with the same key changes nothing.
    const again = await asService(t.db, (tx) => recordAdjustment(tx, { eventId: event.eventId, idempotencyKey: `l-${n}`,
      reason: 'provider invoice: 300 input tokens were cached', inputTokens: -300, cachedInputTokens: 300, costUsd: '-0.0006' }));
    expect(again).toEqual({ ...fix, duplicate: true });
    expect(await books()).toEqual(after);
  });

  it("a key names one event: a request's key is no correction's, and a correction's key neither buys a request nor corrects another", async () => {
    const requestKey = key();
    const event = await recordUsage(t.db, { userId: user, idempotencyKey: requestKey, provider: 'openai', model: 'gpt-4.1', agentMode: 'debug',
      inputTokens: 100, costUsd: '0.01' });
    const other = await recordUsage(t.db, { userId: user, idempotencyKey: key(), provider: 'openai', model: 'gpt-4.1', agentMode: 'debug',
      inputTokens: 100, costUsd: '0.01' });
    const fixKey = key();
    const fix = await recordAdjustment(t.db, { eventId: event.eventId, idempotencyKey: fixKey, reason: 'cached', inputTokens: -10 });
    const before = await books();
    // Before: each of these answered duplicate: true with another event's figures.
    await expect(recordAdjustment(t.db, { eventId: event.eventId, idempotencyKey: requestKey, reason: 'cached', inputTokens: -10 }))
      .rejects.toThrow(new ValidationError('idempotency_key', `is already used by usage event ${event.eventId}, which is not a correction of event ${event.eventId}`));
    await expect(recordAdjustment(t.db, { eventId: other.eventId, idempotencyKey: fixKey, reason: 'cached', inputTokens: -10 }))
      .rejects.toThrow(new ValidationError('idempotency_key', `is already used by usage event ${fix.eventId}, which is not a correction of event ${other.eventId}`));
    await expect(recordUsage(t.db, { userId: user, idempotencyKey: fixKey, provider: 'openai', model: 'gpt-4.1', agentMode: 'debug', inputTokens: 5 }))
      .rejects.toThrow(new ValidationError('idempotency_key', 'is already used by a correction (record_adjustment): a key names one event'));
    expect(await books()).toEqual(before);
    expectBalanced(before);
  });

  it('no correction takes a request, or any total, below zero; a correction is not corrected', async () => {
    const event = await recordUsage(t.db, { userId: user, idempotencyKey: key(), provider: 'openai', model: 'gpt-4.1', agentMode: 'debug',
      inputTokens: 100, costUsd: '0.01' });
    const before = await books();
    await expect(recordAdjustment(t.db, { eventId: event.eventId, idempotencyKey: key(), reason: 'too much', inputTokens: -101 }))
      .rejects.toThrow(/^input_tokens: the corrected request would have -1/);
    await expect(recordAdjustment(t.db, { eventId: event.eventId, idempotencyKey: key(), reason: 'too much', costUsd: '-0.02' }))
      .rejects.toThrow(/^cost_usd: the corrected request would have -0.01/);
    const first = await recordAdjustment(t.db, { eventId: event.eventId, idempotencyKey: key(), reason: 'half', inputTokens: -60 });
    // The second correction counts the first: 100 - 60 - 50 < 0.
    await expect(recordAdjustment(t.db, { eventId: event.eventId, idempotencyKey: key(), reason: 'again', inputTokens: -50 }))
      .rejects.toThrow(/^input_tokens: the corrected request would have -10/);
    await expect(recordAdjustment(t.db, { eventId: first.eventId, idempotencyKey: key(), reason: 'nested', inputTokens: 1 }))
      .rejects.toThrow(/^event_id: is a correction itself/);
    await expect(recordAdjustment(t.db, { eventId: 999_999_999, idempotencyKey: key(), reason: 'nothing', inputTokens: 1 }))
      .rejects.toThrow(new ValidationError('event_id', 'no such usage event'));
    await expect(recordAdjustment(t.db, { eventId: event.eventId, idempotencyKey: key(), reason: '  ', inputTokens: 1 }))
      .rejects.toThrow(/^reason: /);
    const after = await books();
    expectBalanced(after);
    expect(Number(after.raw_tokens)).toBe(Number(before.raw_tokens) - 60);
    const [negative] = await t.rows<{ n: number }>(sql`select count(*)::int as n from ai_usage_daily
      where user_id = ${user} and least(input_tokens, output_tokens, cached_input_tokens, cache_write_tokens, reasoning_tokens, total_tokens) < 0`);
    expect(negative!.n).toBe(0);
  });

  it('users and anon may not correct anything', async () => {
    const event = await recordUsage(t.db, { userId: user, idempotencyKey: key(), provider: 'ollama', model: 'llama3', agentMode: 'debug', inputTokens: 10 });
    for (const claims of [{ role: 'authenticated' as const, sub: user }, { role: 'anon' as const }]) {
      const e = await refusal(withClaims(t.db, claims, (tx) => queryRows(tx, sql`select * from public.record_adjustment(${event.eventId}::bigint, ${key()}, 'mine', 1)`)));
      expect(e.code).toBe('42501');
    }
  });
});

describe('messages: never rewritten, moved or deleted', () => {
  it('the backend cannot change a message\'s seq, owner, content or session, nor delete it', async () => {
    const other = await startTestSession(t, user);
    const m = await asService(t.db, (tx) => appendMessage(tx, { sessionId: session, role: 'user', content: 'original' }));
    for (const change of [sql`seq = 99`, sql`user_id = gen_random_uuid()`, sql`content = 'rewritten'`, sql`session_id = ${other}::uuid`]) {
      expect((await refusal(asBackend(sql`update agent_messages set ${change} where id = ${m.id}`))).code).toBe('42501');
    }
    expect((await refusal(asBackend(sql`delete from agent_messages where id = ${m.id}`))).code).toBe('42501');
    expect((await refusal(asBackend(sql`delete from agent_sessions where id = ${session}`))).code).toBe('42501');
    const [row] = await t.rows<{ seq: number; content: string; session_id: string }>(sql`select seq, content, session_id from agent_messages where id = ${m.id}`);
    expect(row).toEqual({ seq: m.seq, content: 'original', session_id: session });
  });
});

describe('sessions: figures start at zero, and the end never precedes the last activity', () => {
  it('nobody inserts a session with figures (before: message_count = 5 made the first message seq 6)', async () => {
    expect((await refusal(asBackend(sql`insert into agent_sessions (user_id, agent_mode, message_count) values (${user}, 'debug', 5)`))).code).toBe('42501');
    // Not even the owner of the tables, which passes every grant.
    const e = await refusal(t.rows(sql`insert into agent_sessions (user_id, agent_mode, message_count) values (${user}, 'debug', 5)`));
    expect(e).toMatchObject({ code: '23514', message: 'message_count: is kept by the database: a new session starts with every figure at zero (agent_sessions_figures_start_at_zero)' });
    const fresh = await asService(t.db, (tx) => queryRows<{ id: string }>(tx, sql`insert into agent_sessions (user_id, agent_mode) values (${user}, 'debug') returning id`));
    const first = await asService(t.db, (tx) => appendMessage(tx, { sessionId: fresh[0]!.id, role: 'user', content: 'first' }));
    expect(first.seq).toBe(1);
  });

  it('the backend cannot give a session another owner', async () => {
    expect((await refusal(asBackend(sql`update agent_sessions set user_id = gen_random_uuid() where id = ${session}`))).code).toBe('42501');
  });

  it('an end before the last activity is refused, whoever sets it', async () => {
    const [{ id: s }] = (await t.rows<{ id: string }>(sql`insert into agent_sessions (user_id, agent_mode, started_at, last_activity_at)
      values (${user}, 'debug', now() - interval '1 hour', now() - interval '1 hour') returning id`)) as [{ id: string }];
    await asService(t.db, (tx) => appendMessage(tx, { sessionId: s, role: 'user', content: 'activity' }));
    // After the start, but before the message just appended.
    const early = sql`update agent_sessions set status = 'completed', ended_at = now() - interval '30 minutes' where id = ${s}`;
    expect((await refusal(asBackend(early))).message).toBe('ended_at: must not be before last_activity_at (agent_sessions_ended_after_activity)');
    expect((await refusal(t.rows(early))).code).toBe('23514');
    expect((await refusal(asBackend(sql`insert into agent_sessions (user_id, agent_mode, status, started_at, last_activity_at, ended_at)
      values (${user}, 'debug', 'completed', now() - interval '1 hour', now() - interval '10 minutes', now() - interval '20 minutes')`))).code).toBe('23514');
    await asBackend(sql`update agent_sessions set status = 'completed', ended_at = last_activity_at where id = ${s}`);
  });
});
