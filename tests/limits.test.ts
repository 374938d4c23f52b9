// Each limit is defined once (src/schema/limits.ts) and says the same thing
// everywhere: the zod schemas refuse what the database refuses, at the same
// value, with the same "field: rule" message, and both accept the limit
// itself. The database side is reached without the TypeScript validation, as
// a caller that goes straight to SQL would.
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { fromDatabaseError, parseInput, ValidationError } from '../src/errors.js';
import { signUpLocal } from '../src/local/auth.js';
import { limits, messages } from '../src/schema/limits.js';
import { reserveQuotaInput } from '../src/validation/quotas.js';
import { appendMessageInput, startSessionInput } from '../src/validation/sessions.js';
import { recordUsageInput } from '../src/validation/usage.js';
import { freshDatabase, sql, type TestDatabase } from './support/database.js';

let t: TestDatabase;
let user: string;
let session: string;
let n = 0;

beforeAll(async () => {
  t = await freshDatabase();
  user = await signUpLocal(t.db, { email: 'limits@example.com' });
  const [s] = await t.rows<{ id: string }>(sql`insert into agent_sessions (user_id, agent_mode) values (${user}, 'debug') returning id`);
  session = s!.id;
});
afterAll(() => t?.close());

/** What zod says of the input: null when it passes. */
function zodSays(schema: Parameters<typeof parseInput>[0], input: unknown): string | null {
  try {
    parseInput(schema, input);
    return null;
  } catch (error) {
    if (error instanceof ValidationError) return error.message;
    throw error;
  }
}

/** What the database says of the statement, in a transaction rolled back either way: null when it passes. */
async function databaseSays(statement: ReturnType<typeof sql>): Promise<string | null> {
  let said: string | null = null;
  await t.db
    .transaction(async (tx) => {
      try {
        await tx.execute(statement);
      } catch (error) {
        const translated = fromDatabaseError(error);
        said = translated instanceof ValidationError ? translated.message : String(translated);
      }
      throw new Error('rollback');
    })
    .catch((error: Error) => {
      if (error.message !== 'rollback') throw error;
    });
  return said;
}

const recordUsageSql = (over: { inputTokens?: number; key?: string; model?: string }) =>
  sql`select * from public.record_usage(${user}::uuid, ${over.key ?? `k-${++n}`}, 'ollama', ${over.model ?? 'llama3'},
    'debug', ${over.inputTokens ?? 0}::bigint)`;
const usageInput = (over: { inputTokens?: number; key?: string; model?: string }) => ({
  userId: user,
  idempotencyKey: over.key ?? `k-${++n}`,
  provider: 'ollama',
  model: over.model ?? 'llama3',
  agentMode: 'debug',
  inputTokens: over.inputTokens ?? 0,
});

describe('limits say the same in TypeScript and in the database', () => {
  test('tokens per request', async () => {
    const at = limits.tokensPerRequest;
    expect(zodSays(recordUsageInput, usageInput({ inputTokens: at }))).toBeNull();
    expect(await databaseSays(recordUsageSql({ inputTokens: at }))).toBeNull();
    const over = `input_tokens: ${messages.tokens}`;
    expect(zodSays(recordUsageInput, usageInput({ inputTokens: at + 1 }))).toBe(over);
    expect(await databaseSays(recordUsageSql({ inputTokens: at + 1 }))).toBe(over);
    expect(zodSays(reserveQuotaInput, { userId: user, idempotencyKey: 'r', estimatedTokens: at + 1 })).toBe(`estimated_tokens: ${messages.tokens}`);
    expect(await databaseSays(sql`select * from public.reserve_quota(${user}::uuid, 'r', ${at + 1}::bigint)`)).toBe(
      `estimated_tokens: ${messages.tokens}`,
    );
  });

  test('idempotency key length', async () => {
    const at = 'k'.repeat(limits.idempotencyKeyLength);
    expect(zodSays(recordUsageInput, usageInput({ key: at }))).toBeNull();
    expect(await databaseSays(recordUsageSql({ key: at }))).toBeNull();
    const over = `idempotency_key: ${messages.idempotencyKey}`;
    expect(zodSays(recordUsageInput, usageInput({ key: `${at}k` }))).toBe(over);
    expect(await databaseSays(recordUsageSql({ key: `${at}k` }))).toBe(over);
  });

  test('model length', async () => {
    const at = 'm'.repeat(limits.modelLength);
    expect(zodSays(recordUsageInput, usageInput({ model: at }))).toBeNull();
    expect(await databaseSays(recordUsageSql({ model: at }))).toBeNull();
    const over = `model: ${messages.model}`;
    expect(zodSays(recordUsageInput, usageInput({ model: `${at}m` }))).toBe(over);
    expect(await databaseSays(recordUsageSql({ model: `${at}m` }))).toBe(over);
  });

  test('session title length', async () => {
    const at = 't'.repeat(limits.sessionTitleLength);
    const insert = (title: string) => sql`insert into agent_sessions (user_id, agent_mode, title) values (${user}, 'debug', ${title})`;
    expect(zodSays(startSessionInput, { userId: user, agentMode: 'debug', title: at })).toBeNull();
    expect(await databaseSays(insert(at))).toBeNull();
    expect(zodSays(startSessionInput, { userId: user, agentMode: 'debug', title: `${at}t` })).toBe(`title: ${messages.sessionTitle}`);
    // The database names the rule too: "title: must be at most 500 characters (agent_sessions_title_length)".
    expect(await databaseSays(insert(`${at}t`))).toBe(`title: ${messages.sessionTitle} (agent_sessions_title_length)`);
  });

  test('message content length', async () => {
    const at = 'c'.repeat(limits.messageContentLength);
    const insert = (content: string) =>
      sql`insert into agent_messages (session_id, role, content) values (${session}, 'user', ${content})`;
    expect(zodSays(appendMessageInput, { sessionId: session, role: 'user', content: at })).toBeNull();
    expect(await databaseSays(insert(at))).toBeNull();
    expect(zodSays(appendMessageInput, { sessionId: session, role: 'user', content: `${at}c` })).toBe(
      `content: ${messages.messageContent}`,
    );
    // The free tier allows the global maximum; its trigger names field and limit as zod does.
    expect(await databaseSays(insert(`${at}c`))).toMatch(new RegExp(`^content: ${messages.messageContent} \\(the session's tier, message_chars_limit\\)`));
  });
});
