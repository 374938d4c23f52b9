import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUpLocal } from '../src/local/auth.js';
import { freshDatabase, pgError, sql, type TestDatabase } from './support/database.js';

// Bad rows are refused by the database itself (the last line of defence
// behind TypeScript validation) and leave nothing behind.
let t: TestDatabase;
let user: string;
let session: string;

async function count(table: string): Promise<number> {
  const [row] = await t.rows<{ n: number }>(sql`select count(*)::int as n from ${sql.identifier(table)}`);
  return row!.n;
}

async function refused(statement: ReturnType<typeof sql>): Promise<{ code?: string; message: string; constraint?: string }> {
  try {
    await t.rows(statement);
  } catch (error) {
    return pgError(error);
  }
  throw new Error('statement was accepted');
}

beforeAll(async () => {
  t = await freshDatabase();
  user = await signUpLocal(t.db, { email: 'c@example.com' });
  const [s] = await t.rows<{ id: string }>(
    sql`insert into agent_sessions (user_id, agent_mode) values (${user}, 'debug') returning id`,
  );
  session = s!.id;
});
afterAll(() => t?.close());

function usageRow(overrides: Record<string, unknown> = {}) {
  const v = { input_tokens: 10, agent_mode: 'debug', ...overrides };
  return sql`insert into ai_usage_events
      (user_id, idempotency_key, provider, model, agent_mode, input_tokens, cost_usd, cost_source, status)
    values (${user}, ${'k-' + Math.random()}, 'openai', 'gpt-4.1', ${v.agent_mode}::agent_mode, ${v.input_tokens}, 0, 'given', 'success')`;
}

describe('the database refuses bad rows', () => {
  it('accepts a good usage row (the control case)', async () => {
    await t.rows(usageRow());
    expect(await count('ai_usage_events')).toBe(1);
    await t.rows(sql`delete from ai_usage_events`);
  });

  it('negative tokens', async () => {
    const e = await refused(usageRow({ input_tokens: -1 }));
    expect(e.code).toBe('23514');
    expect(e.message).toMatch(/ai_usage_events_tokens_range/);
    expect(await count('ai_usage_events')).toBe(0);
  });

  it('absurd tokens', async () => {
    const e = await refused(usageRow({ input_tokens: 10_000_000_000 }));
    expect(e.code).toBe('23514');
    expect(await count('ai_usage_events')).toBe(0);
  });

  it('an unknown agent mode', async () => {
    const e = await refused(usageRow({ agent_mode: 'vibe' }));
    expect(e.code).toBe('22P02');
    expect(e.message).toMatch(/agent_mode/);
    expect(await count('ai_usage_events')).toBe(0);
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
    expect(await count('quota_tiers')).toBe(1);
  });
});
