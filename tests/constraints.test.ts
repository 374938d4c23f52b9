import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asService } from '../src/auth/withClaims.js';
import { pgErrorOf, type PgError } from '../src/errors.js';
import { signUpLocal } from '../src/local/auth.js';
import { freshDatabase, sql, type TestDatabase } from './support/database.js';
import { startTestSession } from './support/fixtures.js';

// Bad rows are refused by the database itself (the last line of defence
// behind TypeScript validation) and leave nothing behind.
let t: TestDatabase;
let user: string;
let session: string;

async function count(table: string): Promise<number> {
  const [row] = await t.rows<{ n: number }>(sql`select count(*)::int as n from ${sql.identifier(table)}`);
  return row!.n;
}

async function refused(statement: ReturnType<typeof sql>): Promise<PgError> {
  try {
    await t.rows(statement);
  } catch (error) {
    return pgErrorOf(error);
  }
  throw new Error('statement was accepted');
}

beforeAll(async () => {
  t = await freshDatabase();
  user = await signUpLocal(t.db, { email: 'c@example.com' });
  session = await startTestSession(t, user);
});
afterAll(() => t?.close());

// Usage events are written only by record_usage (no API role may insert
// them; tests/security/matrix.test.ts), which checks every rule the rows must
// keep: called here directly, past the TypeScript validation.
function recordRow(overrides: Record<string, unknown> = {}) {
  const v = { input_tokens: 10, agent_mode: 'debug', ...overrides };
  return sql`select * from public.record_usage(${user}::uuid, ${'k-' + Math.random()}, 'openai', 'gpt-4.1',
    ${v.agent_mode}::agent_mode, ${v.input_tokens}::bigint, p_cost_usd => 0)`;
}

describe('the database refuses bad rows', () => {
  it('accepts a good usage row (the control case)', async () => {
    await t.rows(recordRow());
    expect(await count('ai_usage_events')).toBe(1);
  });

  it('negative tokens', async () => {
    const e = await refused(recordRow({ input_tokens: -1 }));
    expect(e.code).toBe('22023');
    expect(e.message).toMatch(/^input_tokens: must be between 0 and/);
    expect(await count('ai_usage_events')).toBe(1);
  });

  it('absurd tokens', async () => {
    const e = await refused(recordRow({ input_tokens: 10_000_000_000 }));
    expect(e.code).toBe('22023');
    expect(await count('ai_usage_events')).toBe(1);
  });

  it('an unknown agent mode', async () => {
    const e = await refused(recordRow({ agent_mode: 'vibe' }));
    expect(e.code).toBe('22P02');
    expect(e.message).toMatch(/agent_mode/);
    expect(await count('ai_usage_events')).toBe(1);
  });

  // Sessions keep their rules in the life-cycle trigger rather than CHECK
  // constraints (migration 0012); each rule is covered, and the error names
  // column and rule.
  it.each([
    ['a title over 500 characters', sql`update agent_sessions set title = repeat('t', 501)`, /title: .*agent_sessions_title_length/],
    ['a model name over 200 characters', sql`update agent_sessions set model = repeat('m', 201)`, /model: .*agent_sessions_model_length/],
    ['activity before the start', sql`update agent_sessions set last_activity_at = started_at - interval '1 minute'`, /last_activity_at: .*agent_sessions_activity_after_start/],
    ['an end on a session still active', sql`update agent_sessions set ended_at = now()`, /ended_at: is set by ending the session/],
  ])('sessions: %s', async (_name, change, rule) => {
    const e = await refused(sql`${change} where id = ${session}`);
    expect(['23514', '22023']).toContain(e.code);
    expect(e.message).toMatch(rule);
    const [row] = await t.rows<{ title: string | null; ended: boolean }>(sql`select title, ended_at is not null as ended from agent_sessions where id = ${session}`);
    expect(row).toEqual({ title: null, ended: false });
  });

  // A session's figures and updated_at are written only by the database
  // (migration 0016): not even the backend's key may set them.
  const sessionFigures = [
    'message_count', 'tool_call_count', 'request_count', 'input_tokens', 'output_tokens', 'total_tokens', 'cost_usd',
    'latency_ms_sum', 'latency_count', 'updated_at', 'message_limit', 'message_chars_limit', 'parts_bytes_limit', 'tool_calls_limit',
  ];
  it.each(sessionFigures)('a session %s set by the backend', async (column) => {
    const value = column === 'updated_at' ? sql`now() - interval '1 day'` : sql`-1`;
    const e = await asService(t.db, (tx) => tx.execute(sql`update agent_sessions set ${sql.identifier(column)} = ${value} where id = ${session}`))
      .then(() => null, (error: unknown) => pgErrorOf(error));
    expect(e?.code).toBe('42501');
    const [row] = await t.rows<{ n: number }>(sql`select count(*)::int as n from agent_sessions where id = ${session}
      and least(message_count, tool_call_count, request_count, latency_count) = 0 and total_tokens = 0 and updated_at > now() - interval '1 hour'`);
    expect(row!.n).toBe(1);
  });

  it('a message without its session', async () => {
    const e = await refused(sql`insert into agent_messages (session_id, user_id, seq, role, content)
      values (gen_random_uuid(), ${user}, 1, 'user', 'hello')`);
    expect(['23503', 'P0002']).toContain(e.code);
    expect(await count('agent_messages')).toBe(0);
  });

  it('a message with an unknown role', async () => {
    const e = await refused(sql`insert into agent_messages (session_id, user_id, seq, role, content)
      values (${session}, ${user}, 1, 'wizard', 'hello')`);
    expect(e.code).toBe('22P02');
    expect(await count('agent_messages')).toBe(0);
  });

  it('a session that ends before it starts', async () => {
    const e = await refused(sql`insert into agent_sessions (user_id, agent_mode, status, started_at, ended_at)
      values (${user}, 'debug', 'completed', now(), now() - interval '1 hour')`);
    expect(e.code).toBe('23514');
    expect(await count('agent_sessions')).toBe(1);
  });

  it('a second profile for one user', async () => {
    const e = await refused(sql`insert into profiles (id, email) values (${user}, 'again@example.com')`);
    expect(e.code).toBe('23505');
    const [p] = await t.rows<{ email: string }>(sql`select email from profiles where id = ${user}`);
    expect(p!.email).toBe('c@example.com');
    expect(await count('profiles')).toBe(1);
  });

  it('a profile for someone who is not an auth user', async () => {
    const e = await refused(sql`insert into profiles (id, email) values (gen_random_uuid(), 'ghost@example.com')`);
    expect(e.code).toBe('23503');
    expect(await count('profiles')).toBe(1);
  });

  it('a second default quota tier', async () => {
    const e = await refused(sql`insert into quota_tiers (id, name, monthly_token_limit, monthly_cost_limit_usd, daily_request_limit, is_default)
      values ('other', 'Other', 1, 1, 1, true)`);
    expect(e.code).toBe('23505');
    expect(await count('quota_tiers')).toBe(3); // free, anonymous and team
  });

  it('a second tier for anonymous users', async () => {
    const e = await refused(sql`insert into quota_tiers (id, name, monthly_token_limit, monthly_cost_limit_usd, daily_request_limit, is_anonymous_default)
      values ('other', 'Other', 1, 1, 1, true)`);
    expect(e.code).toBe('23505');
    expect(await count('quota_tiers')).toBe(3);
  });
});
