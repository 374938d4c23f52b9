import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { counter, timestamps, timestamptz, tokenCount, usdTotal } from './columns.js';
import { agentMode, messageRole, sessionStatus } from './enums.js';
import { limits } from './limits.js';
import { profiles } from './profiles.js';

/**
 * One agent conversation. The figures (message count, tokens, cost, latency)
 * are kept current by the database as messages and usage events arrive, so
 * reading them never rescans the messages.
 */
export const agentSessions = pgTable(
  'agent_sessions',
  {
    id: uuid().primaryKey().defaultRandom(),
    userId: uuid()
      .notNull()
      .references(() => profiles.id, { onDelete: 'cascade' }),
    agentMode: agentMode().notNull(),
    title: text(),
    model: text(),
    status: sessionStatus().notNull().default('active'),
    // What the client says about itself: workspace, editor, version.
    clientMetadata: jsonb().notNull().default({}),
    startedAt: timestamptz().notNull().defaultNow(),
    lastActivityAt: timestamptz().notNull().defaultNow(),
    endedAt: timestamptz(),
    // Figures maintained by the database.
    messageCount: counter(),
    toolCallCount: counter(),
    requestCount: counter(),
    inputTokens: tokenCount(),
    outputTokens: tokenCount(),
    totalTokens: tokenCount(),
    costUsd: usdTotal().notNull().default('0'),
    latencyMsSum: bigint({ mode: 'number' }).notNull().default(0),
    latencyCount: counter(),
    // What the session may hold, from its owner's tier when it started (set by
    // the database, like the figures): the message trigger checks each message
    // against these without looking the tier up again.
    messageLimit: integer().notNull().default(5_000),
    messageCharsLimit: integer().notNull().default(limits.messageContentLength),
    partsBytesLimit: integer().notNull().default(1_048_576),
    toolCallsLimit: integer().notNull().default(256),
    ...timestamps,
  },
  (t) => [
    // A user's sessions, newest first.
    index('agent_sessions_user_started_idx').on(t.userId, t.startedAt.desc()),
    // Active sessions (the seed's query, a user's open sessions, the idle sweep).
    // Keyed on user_id, not on last_activity_at, so that the update each message
    // makes to its session touches no indexed column and stays a HOT update.
    index('agent_sessions_active_idx').on(t.userId).where(sql`${t.endedAt} is null`),
    // Row rules (title and model lengths, no end or activity before the
    // start, active exactly while there is no end, figures non-negative) are
    // enforced by the life-cycle trigger (migration 0012), not CHECKs: every
    // recorded request and every message rewrites the session row, and
    // Postgres prepares CHECK expressions again for each statement. Errors
    // are still SQLSTATE 23514 and name the rule. The figures and updated_at
    // are written only by the database (record_usage, the message trigger;
    // migration 0016), which adds validated non-negative amounts.
  ],
).enableRLS();

export type AgentSession = typeof agentSessions.$inferSelect;
export type NewAgentSession = typeof agentSessions.$inferInsert;

/**
 * Messages of a session in order. `seq` is 1, 2, 3, ... within a session with
 * no gaps, assigned by the database. `user_id` is copied from the session so
 * row-level security needs no join.
 */
export const agentMessages = pgTable(
  'agent_messages',
  {
    id: bigint({ mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    sessionId: uuid()
      .notNull()
      .references(() => agentSessions.id, { onDelete: 'cascade' }),
    // Always the session's owner (set by the database); deleted with the session.
    userId: uuid().notNull(),
    seq: integer().notNull(),
    role: messageRole().notNull(),
    content: text().notNull(),
    // Structured parts: tool calls and their results.
    parts: jsonb(),
    inputTokens: tokenCount(),
    outputTokens: tokenCount(),
    model: text(),
    latencyMs: integer(),
    createdAt: timestamptz().notNull().defaultNow(),
  },
  (t) => [
    // Messages of a session in order; also serves the foreign key.
    uniqueIndex('agent_messages_session_seq_key').on(t.sessionId, t.seq),
    // Row-level security filters on the owner.
    index('agent_messages_user_idx').on(t.userId),
    check('agent_messages_seq_positive', sql`${t.seq} >= 1`),
    check('agent_messages_content_length', sql`char_length(${t.content}) <= ${sql.raw(String(limits.messageContentLength))}`),
    check(
      'agent_messages_not_empty',
      sql`char_length(${t.content}) > 0 or ${t.parts} is not null`,
    ),
    check('agent_messages_model_length', sql`char_length(${t.model}) <= ${sql.raw(String(limits.modelLength))}`),
    check('agent_messages_tokens_non_negative', sql`${t.inputTokens} >= 0 and ${t.outputTokens} >= 0`),
    check('agent_messages_latency_non_negative', sql`${t.latencyMs} >= 0`),
  ],
).enableRLS();

export type AgentMessage = typeof agentMessages.$inferSelect;
export type NewAgentMessage = typeof agentMessages.$inferInsert;
