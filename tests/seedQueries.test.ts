import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signUpLocal } from '../src/local/auth.js';
import { activeSessionsQuery, checkQuotaQuery, monthlyUsageQuery } from '../src/queries/seedExamples.js';
import { freshDatabase, sql, type TestDatabase } from './support/database.js';
import { startTestSession } from './support/fixtures.js';

// The original design's three example queries, run word for word on data this file writes.
let t: TestDatabase;
let alice: string;
let bob: string;

async function addDaily(
  user: string,
  day: 'this month' | 'last month',
  provider: string,
  model: string,
  tokens: number,
  cost: string,
  bucket = 0,
) {
  // Days are stored as their midnight in UTC (sessions here run in UTC, as on Supabase).
  const date =
    day === 'this month'
      ? sql`date_trunc('day', now(), 'UTC')`
      : sql`date_trunc('month', now(), 'UTC') - interval '1 day'`;
  await t.rows(sql`insert into ai_usage_daily
      (user_id, date, provider, model, agent_mode, bucket, request_count, success_count, input_tokens, total_tokens, cost_usd)
    values (${user}, ${date}, ${provider}, ${model}, 'debug', ${bucket}, 1, 1, ${tokens}, ${tokens}, ${cost})`);
}

beforeAll(async () => {
  t = await freshDatabase();
  alice = await signUpLocal(t.db, { email: 'alice@example.com', emailConfirmed: true });
  bob = await signUpLocal(t.db, { email: 'bob@example.com', emailConfirmed: true });
  await addDaily(alice, 'this month', 'anthropic', 'claude-sonnet', 1200, '0.0180000000');
  // A second bucket row of the same day and model: readers must sum over buckets.
  await addDaily(alice, 'this month', 'anthropic', 'claude-sonnet', 300, '0.0045000000', 1);
  await addDaily(alice, 'this month', 'ollama', 'qwen2.5-coder', 5000, '0');
  await addDaily(alice, 'last month', 'anthropic', 'claude-sonnet', 99999, '9.0000000000');
  await addDaily(bob, 'this month', 'openai', 'gpt-4.1', 700, '0.0070000000');
});
afterAll(() => t?.close());

describe('seed example queries', () => {
  it('monthly usage: this month only, per provider and model', async () => {
    const rows = await t.query<{ provider: string; model: string; total_tokens: string; total_cost: string }>(
      monthlyUsageQuery,
      [alice],
    );
    const byModel = Object.fromEntries(rows.map((r) => [`${r.provider}/${r.model}`, r]));
    expect(rows).toHaveLength(2);
    expect(Number(byModel['anthropic/claude-sonnet']!.total_tokens)).toBe(1500);
    expect(String(byModel['anthropic/claude-sonnet']!.total_cost)).toBe('0.0225000000');
    expect(Number(byModel['ollama/qwen2.5-coder']!.total_tokens)).toBe(5000);
    expect(Number(byModel['ollama/qwen2.5-coder']!.total_cost)).toBe(0);
  });

  it('active sessions: open sessions only, with email and message count', async () => {
    const open = await startTestSession(t, alice, { agentMode: 'implement', title: 'open' });
    await startTestSession(t, bob, { title: 'closed', status: 'completed' });
    for (const [i, role] of (['user', 'assistant', 'user'] as const).entries()) {
      await t.rows(sql`insert into agent_messages (session_id, user_id, seq, role, content)
        values (${open}, ${alice}, ${i + 1}, ${role}, ${'message ' + i})`);
    }
    const rows = await t.query<{ id: string; email: string; message_count: string; title: string }>(activeSessionsQuery);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.id).toBe(open);
    expect(rows[0]!.email).toBe('alice@example.com');
    expect(rows[0]!.title).toBe('open');
    expect(Number(rows[0]!.message_count)).toBe(3);
  });

  it('check quota: the default tier limit, this month use and remainder', async () => {
    const [row] = await t.query<{ email: string; monthly_token_limit: string; tokens_used: string; tokens_remaining: string }>(
      checkQuotaQuery,
      [alice],
    );
    const [tier] = await t.rows<{ monthly_token_limit: string }>(
      sql`select monthly_token_limit from quota_tiers where is_default`,
    );
    expect(row!.email).toBe('alice@example.com');
    expect(Number(row!.monthly_token_limit)).toBe(Number(tier!.monthly_token_limit));
    expect(Number(row!.tokens_used)).toBe(6500);
    expect(Number(row!.tokens_remaining)).toBe(Number(tier!.monthly_token_limit) - 6500);
  });
});
