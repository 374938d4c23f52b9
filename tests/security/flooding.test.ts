// A signed-in user cannot fill the database. Everything PostgREST lets a user
// write is bounded by their tier: sessions active at once and started a day,
// the size of client_metadata (on every update too), messages per session,
// characters per message, bytes of parts and tool calls per message; latency
// by a day. Anonymous sign-ins get their own, small tier. Each attack writes
// straight to the tables as the user, as supabase-js would; each refusal names
// the field and the limit, and leaves nothing behind.
import { sql, type SQL } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withClaims } from '../../src/auth/withClaims.js';
import { queryRows } from '../../src/db.js';
import { fromDatabaseError, pgErrorOf, ValidationError } from '../../src/errors.js';
import { signUpLocal } from '../../src/local/auth.js';
import { startSession } from '../../src/queries/sessions.js';
import { freshDatabase, needsServer, target, type TestDatabase } from '../support/database.js';

let t: TestDatabase;
let mallory: string;

beforeAll(async () => {
  t = await freshDatabase();
  // A tier with small limits, so that reaching them is quick.
  await t.rows(sql`insert into quota_tiers (id, name, monthly_token_limit, monthly_cost_limit_usd, daily_request_limit,
      max_active_sessions, max_sessions_per_day, max_messages_per_session, max_message_chars, max_parts_bytes,
      max_metadata_bytes, max_tool_calls_per_message)
    values ('tiny', 'Tiny', 1000, 1, 10, 3, 5, 4, 100, 256, 128, 2)`);
  mallory = await signUpLocal(t.db, { email: 'mallory@example.com' });
  await t.rows(sql`update user_quotas set tier_id = 'tiny' where user_id = ${mallory}`);
});
afterAll(() => t?.close());

const asUser = <T = Record<string, unknown>>(sub: string, statement: SQL) =>
  withClaims(t.db, { role: 'authenticated', sub }, (tx) => queryRows<T>(tx, statement));

/** "field: rule" of the refusal (or the raw message), and its SQLSTATE. */
async function refused(p: Promise<unknown>): Promise<{ code?: string; said: string }> {
  const error = await p.then(() => null, (e: unknown) => e);
  if (!error) throw new Error('accepted');
  const translated = fromDatabaseError(error);
  return { code: pgErrorOf(error).code, said: translated instanceof ValidationError ? translated.message : pgErrorOf(error).message };
}

async function countOf(user: string, table: 'agent_sessions' | 'agent_messages'): Promise<number> {
  const [row] = await t.rows<{ n: number }>(sql`select count(*)::int as n from ${sql.identifier(table)} where user_id = ${user}`);
  return row!.n;
}

describe('sessions', () => {
  it('10,000 sessions in one statement (before: all accepted) stop at the tier\'s active limit, and none is kept', async () => {
    const e = await refused(asUser(mallory, sql`insert into agent_sessions (user_id, agent_mode)
      select auth.uid(), 'debug' from generate_series(1, 10000)`));
    expect(e).toEqual({ code: '54000', said: 'user_id: has 3 active sessions, the most tier tiny allows (max_active_sessions): end one first' });
    expect(await countOf(mallory, 'agent_sessions')).toBe(0);
  });

  it('ending sessions frees active places, but not the day\'s allowance', async () => {
    for (let i = 0; i < 5; i++) {
      const [s] = await asUser<{ id: string }>(mallory, sql`insert into agent_sessions (user_id, agent_mode) values (auth.uid(), 'debug') returning id`);
      await asUser(mallory, sql`update agent_sessions set status = 'completed' where id = ${s!.id}`);
    }
    const e = await refused(asUser(mallory, sql`insert into agent_sessions (user_id, agent_mode) values (auth.uid(), 'debug')`));
    expect(e.said).toBe('user_id: started 5 sessions today (UTC), the most tier tiny allows (max_sessions_per_day)');
    // Through the typed query: the same refusal, as a ValidationError naming the field.
    await expect(withClaims(t.db, { role: 'authenticated', sub: mallory }, (tx) => startSession(tx, { userId: mallory, agentMode: 'debug' }))).rejects.toThrow(
      new ValidationError('user_id', 'started 5 sessions today (UTC), the most tier tiny allows (max_sessions_per_day)'),
    );
  });

  it('client_metadata of 5 MB (before: accepted, on every update too) is refused on insert and on update', async () => {
    const big = JSON.stringify({ blob: 'x'.repeat(5 * 1024 * 1024) });
    const u = await freshUser('meta');
    const e = await refused(asUser(u, sql`insert into agent_sessions (user_id, agent_mode, client_metadata) values (auth.uid(), 'debug', ${big}::jsonb)`));
    expect(e.code).toBe('54000');
    expect(e.said).toMatch(/^client_metadata: must be at most 128 bytes \(tier tiny, max_metadata_bytes\), not \d+$/);
    const [s] = await asUser<{ id: string }>(u, sql`insert into agent_sessions (user_id, agent_mode, client_metadata)
      values (auth.uid(), 'debug', '{"editor":"vscode"}') returning id`);
    const e2 = await refused(asUser(u, sql`update agent_sessions set client_metadata = ${big}::jsonb where id = ${s!.id}`));
    expect(e2.said).toMatch(/^client_metadata: must be at most 128 bytes/);
    const [row] = await t.rows<{ size: number }>(sql`select pg_column_size(client_metadata) as size from agent_sessions where id = ${s!.id}`);
    expect(row!.size).toBeLessThan(128);
  });

  it.skipIf(target().kind === 'pglite')(`20 concurrent starts by one user get exactly the active limit (${needsServer})`, async () => {
    const u = await freshUser('race');
    const pool = t.connect(10);
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () =>
        withClaims(pool.db, { role: 'authenticated', sub: u }, (tx) =>
          tx.execute(sql`insert into agent_sessions (user_id, agent_mode) values (auth.uid(), 'debug')`),
        ).then(() => 'ok', (e: unknown) => pgErrorOf(e).code),
      ),
    );
    expect(outcomes.filter((o) => o === 'ok')).toHaveLength(3);
    expect(outcomes.filter((o) => o === '54000')).toHaveLength(17);
    expect(await countOf(u, 'agent_sessions')).toBe(3);
  });
});

describe('messages', () => {
  let user: string;
  let session: string;
  beforeAll(async () => {
    user = await freshUser('messages');
    [{ id: session }] = (await asUser<{ id: string }>(user, sql`insert into agent_sessions (user_id, agent_mode) values (auth.uid(), 'debug') returning id`)) as [{ id: string }];
  });
  const append = (columns: SQL, values: SQL) =>
    asUser(user, sql`insert into agent_messages (session_id, role, ${columns}) values (${session}, 'user', ${values})`);

  it.each([
    ['content over the tier\'s characters', sql`content`, sql`${'c'.repeat(101)}`, "content: must be at most 100 characters (the session's tier, message_chars_limit), not 101"],
    ['parts over the tier\'s bytes (before: 5 MB accepted)', sql`content, parts`, sql`'', ${JSON.stringify([{ type: 'text', text: 'p'.repeat(5 * 1024 * 1024) }])}::jsonb`, /^parts: must be at most 256 bytes \(the session's tier, parts_bytes_limit\), not \d+$/],
    ['parts just over the tier\'s bytes', sql`content, parts`, sql`'', ${JSON.stringify([{ type: 'text', text: 'p'.repeat(300) }])}::jsonb`, /^parts: must be at most 256 bytes \(the session's tier, parts_bytes_limit\), not \d+$/],
    ['more tool calls than the tier allows', sql`content, parts`, sql`'go', '[{"type":"tool_call"},{"type":"tool_use"},{"type":"tool_call"}]'::jsonb`, "parts: must hold at most 2 tool calls (the session's tier, tool_calls_limit), not 3"],
    ['a latency over a day', sql`content, latency_ms`, sql`'slow', 86400001`, 'latency_ms: must be between 0 and 86400000 ms'],
  ])('%s is refused', async (_name, columns, values, message) => {
    const e = await refused(append(columns, values));
    if (typeof message === 'string') expect(e.said).toBe(message);
    else expect(e.said).toMatch(message);
    expect(await countOf(user, 'agent_messages')).toBe(0);
  });

  it('a session takes the tier\'s number of messages, then refuses', async () => {
    for (let i = 0; i < 4; i++) await append(sql`content`, sql`${`m${i}`}`);
    const e = await refused(append(sql`content`, sql`'one too many'`));
    expect(e).toEqual({ code: '54000', said: 'session_id: already holds 4 messages, the most its tier allows (message_limit)' });
    const [s] = await t.rows<{ message_count: number }>(sql`select message_count from agent_sessions where id = ${session}`);
    expect(s!.message_count).toBe(4);
  });
});

describe('anonymous sign-ins get the small anonymous tier (before: the full free tier)', () => {
  it('its limits bound what an anonymous user writes', async () => {
    const guest = await signUpLocal(t.db, { isAnonymous: true });
    const [tier] = await t.rows<Record<string, number | string>>(sql`select t.id, t.max_active_sessions, t.max_message_chars, t.monthly_token_limit::int,
        f.max_active_sessions as free_sessions, f.monthly_token_limit::int as free_tokens
      from user_quotas q join quota_tiers t on t.id = q.tier_id, quota_tiers f where q.user_id = ${guest} and f.id = 'free'`);
    expect(tier!.id).toBe('anonymous');
    expect(Number(tier!.max_active_sessions)).toBeLessThan(Number(tier!.free_sessions));
    expect(Number(tier!.monthly_token_limit)).toBeLessThan(Number(tier!.free_tokens));
    const e = await refused(asUser(guest, sql`insert into agent_sessions (user_id, agent_mode) select auth.uid(), 'debug' from generate_series(1, 100)`));
    expect(e.said).toBe(`user_id: has ${tier!.max_active_sessions} active sessions, the most tier anonymous allows (max_active_sessions): end one first`);
    const [s] = await asUser<{ id: string }>(guest, sql`insert into agent_sessions (user_id, agent_mode) values (auth.uid(), 'debug') returning id`);
    const long = 'w'.repeat(Number(tier!.max_message_chars) + 1);
    const e2 = await refused(asUser(guest, sql`insert into agent_messages (session_id, role, content) values (${s!.id}, 'user', ${long})`));
    expect(e2.said).toMatch(new RegExp(`^content: must be at most ${tier!.max_message_chars} characters \\(the session's tier, message_chars_limit\\)`));
  });
});

let users = 0;
async function freshUser(name: string): Promise<string> {
  const id = await signUpLocal(t.db, { email: `${name}${++users}@example.com` });
  await t.rows(sql`update user_quotas set tier_id = 'tiny' where user_id = ${id}`);
  return id;
}
