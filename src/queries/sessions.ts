import { and, asc, desc, eq, gt, lt, or, sql } from 'drizzle-orm';
import { queryRows, type DbOrTx } from '../db.js';
import { parseInput, ValidationError, withInputErrors } from '../errors.js';
import { callFunction } from '../rpc.js';
import { agentMessages, agentSessions, type AgentMessage, type AgentSession } from '../schema/agentSessions.js';
import type { AgentMode, SessionStatus } from '../schema/enums.js';
import { activeSessionsQuery } from './seedExamples.js';
import {
  appendMessageInput,
  endSessionInput,
  getSessionInput,
  listSessionsInput,
  startSessionInput,
  usageByModeInput,
  type AppendMessageInput,
  type StartSessionInput,
} from '../validation/sessions.js';

// Sessions and messages work the same whether `db` runs as service_role (the
// backend) or as the signed-in user (asUser): the database assigns sequence
// numbers, owners and figures, and RLS limits a user to their own sessions.

// Inserts name only the columns a client may write (the column grants of
// `authenticated`); Drizzle's insert builder would list every column.

/** Starts a session; returns its id and start time. */
export async function startSession(db: DbOrTx, input: StartSessionInput): Promise<{ id: string; startedAt: Date }> {
  const v = parseInput(startSessionInput, input);
  const [row] = await withInputErrors(() =>
    queryRows<{ id: string; started_at: string | Date }>(
      db,
      sql`insert into public.agent_sessions (user_id, agent_mode, title, model, client_metadata)
          values (${v.userId}::uuid, ${v.agentMode}::public.agent_mode, ${v.title ?? null}, ${v.model ?? null},
                  ${JSON.stringify(v.clientMetadata)}::jsonb)
          returning id, started_at`,
    ),
  );
  return { id: row!.id, startedAt: new Date(row!.started_at) };
}

/** Appends a message; the database gives it the next sequence number of its session. */
export async function appendMessage(db: DbOrTx, input: AppendMessageInput): Promise<{ id: number; seq: number }> {
  const v = parseInput(appendMessageInput, input);
  const [row] = await withInputErrors(() =>
    queryRows<{ id: string; seq: number }>(
      db,
      sql`insert into public.agent_messages
            (session_id, user_id, role, content, parts, input_tokens, output_tokens, model, latency_ms)
          values (${v.sessionId}::uuid, ${v.userId ?? null}::uuid, ${v.role}::public.message_role, ${v.content},
                  ${v.parts === undefined ? null : JSON.stringify(v.parts)}::jsonb, ${v.inputTokens}::bigint,
                  ${v.outputTokens}::bigint, ${v.model ?? null}, ${v.latencyMs ?? null}::integer)
          returning id, seq`,
    ),
  );
  return { id: Number(row!.id), seq: Number(row!.seq) };
}

/** Ends an active session exactly once. A second end is refused (ValidationError on `status`). */
export async function endSession(
  db: DbOrTx,
  input: { sessionId: string; userId?: string; status: 'completed' | 'failed' | 'cancelled' },
): Promise<{ endedAt: Date }> {
  const v = parseInput(endSessionInput, input);
  const where = v.userId
    ? and(eq(agentSessions.id, v.sessionId), eq(agentSessions.userId, v.userId))
    : eq(agentSessions.id, v.sessionId);
  // Only an active session can end: under concurrency the losers find the row
  // no longer active (re-checked after the winner commits) and are refused,
  // whatever status they asked for.
  const [row] = await withInputErrors(() =>
    db
      .update(agentSessions)
      .set({ status: v.status })
      .where(and(where, eq(agentSessions.status, 'active')))
      .returning({ endedAt: agentSessions.endedAt }),
  );
  if (row) return { endedAt: row.endedAt! };
  const [ended] = await db.select({ status: agentSessions.status }).from(agentSessions).where(where);
  if (ended) throw new ValidationError('status', `the session has already ended (${ended.status})`);
  throw new ValidationError('session_id', 'is not a session of this user');
}

/** Marks activity on a session (the client is still there). */
export async function touchSession(db: DbOrTx, input: { sessionId: string }): Promise<void> {
  await db
    .update(agentSessions)
    .set({ lastActivityAt: sql`greatest(${agentSessions.lastActivityAt}, now())` })
    .where(and(eq(agentSessions.id, input.sessionId), sql`${agentSessions.endedAt} is null`));
}

/** Closes sessions idle for longer than `idleMinutes` as abandoned; returns how many (backend only). */
export async function closeIdleSessions(db: DbOrTx, input: { idleMinutes: number }): Promise<number> {
  if (!Number.isInteger(input.idleMinutes) || input.idleMinutes < 1) {
    throw new ValidationError('idle_minutes', 'must be a whole number of minutes, at least 1');
  }
  return withInputErrors(() => callFunction(db, 'close_idle_sessions', { p_idle: `${input.idleMinutes} minutes` }));
}

export interface SessionPage {
  sessions: AgentSession[];
  /** Pass as `after` for the next page; null on the last page. */
  next: { startedAt: Date; id: string } | null;
}

/** A user's sessions, newest first, optionally by mode and status, a page at a time. */
export async function listSessions(
  db: DbOrTx,
  input: { userId: string; agentMode?: AgentMode; status?: SessionStatus; limit?: number; after?: { startedAt: Date; id: string } },
): Promise<SessionPage> {
  const v = parseInput(listSessionsInput, input);
  const filters = [eq(agentSessions.userId, v.userId)];
  if (v.agentMode) filters.push(eq(agentSessions.agentMode, v.agentMode));
  if (v.status) filters.push(eq(agentSessions.status, v.status));
  if (v.after) {
    filters.push(
      or(
        lt(agentSessions.startedAt, v.after.startedAt),
        and(eq(agentSessions.startedAt, v.after.startedAt), lt(agentSessions.id, v.after.id)),
      )!,
    );
  }
  const rows = await db
    .select()
    .from(agentSessions)
    .where(and(...filters))
    .orderBy(desc(agentSessions.startedAt), desc(agentSessions.id))
    .limit(v.limit + 1);
  const sessions = rows.slice(0, v.limit);
  const last = sessions[sessions.length - 1];
  return { sessions, next: rows.length > v.limit && last ? { startedAt: last.startedAt, id: last.id } : null };
}

export interface SessionDetail {
  session: AgentSession;
  /** Average latency of its messages (exact) and p95 (computed on demand), in ms. */
  latency: { count: number; avgMs: number | null; p95Ms: number | null };
  /** Wall time from start to end (or to the last activity while active), in ms. */
  durationMs: number;
  messages: AgentMessage[];
  /** Pass as `afterSeq` for the next page of messages; null on the last page. */
  nextSeq: number | null;
}

/** One session with its messages in order, a page at a time. Null when it is not visible to `db`'s role. */
export async function getSession(
  db: DbOrTx,
  input: { sessionId: string; userId?: string; afterSeq?: number; limit?: number },
): Promise<SessionDetail | null> {
  const v = parseInput(getSessionInput, input);
  const where = v.userId
    ? and(eq(agentSessions.id, v.sessionId), eq(agentSessions.userId, v.userId))
    : eq(agentSessions.id, v.sessionId);
  const [session] = await db.select().from(agentSessions).where(where);
  if (!session) return null;
  const messages = await db
    .select()
    .from(agentMessages)
    .where(and(eq(agentMessages.sessionId, v.sessionId), gt(agentMessages.seq, v.afterSeq)))
    .orderBy(asc(agentMessages.seq))
    .limit(v.limit + 1);
  const page = messages.slice(0, v.limit);
  const [latency] = await callFunction(db, 'session_latency', { p_session_id: v.sessionId });
  const end = session.endedAt ?? session.lastActivityAt;
  return {
    session,
    latency: {
      count: latency?.latency_count ?? 0,
      avgMs: latency?.avg_ms == null ? null : Number(latency.avg_ms),
      p95Ms: latency?.p95_ms ?? null,
    },
    durationMs: end.getTime() - session.startedAt.getTime(),
    messages: page,
    nextSeq: messages.length > v.limit ? page[page.length - 1]!.seq : null,
  };
}

export interface ActiveSession {
  id: string;
  userId: string;
  email: string | null;
  agentMode: AgentMode;
  title: string | null;
  startedAt: Date;
  lastActivityAt: Date;
  messageCount: number;
}

/** Sessions still open, with their owner's email: the seed's active-sessions query, unchanged. */
export async function listActiveSessions(db: DbOrTx): Promise<ActiveSession[]> {
  const rows = await queryRows<Record<string, any>>(db, sql.raw(activeSessionsQuery));
  return rows.map((r) => ({
    id: r.id,
    userId: r.user_id,
    email: r.email,
    agentMode: r.agent_mode,
    title: r.title,
    startedAt: new Date(r.started_at),
    lastActivityAt: new Date(r.last_activity_at),
    messageCount: Number(r.message_count),
  }));
}

export interface ModeUsage {
  agentMode: AgentMode;
  requestCount: number;
  totalTokens: number;
  costUsd: string;
}

/** A user's AI usage per agent mode for one calendar month (UTC), from the daily totals. */
export async function getUsageByMode(db: DbOrTx, input: { userId: string; month?: string }): Promise<ModeUsage[]> {
  const v = parseInput(usageByModeInput, input);
  const rows = await queryRows<{ agent_mode: AgentMode; requests: string; tokens: string; cost: string }>(
    db,
    sql`select agent_mode, sum(request_count)::bigint as requests, sum(total_tokens)::bigint as tokens, sum(cost_usd)::text as cost
        from public.get_monthly_usage(${v.userId}::uuid, ${v.month ?? null}::date)
        group by agent_mode order by agent_mode`,
  );
  return rows.map((r) => ({
    agentMode: r.agent_mode,
    requestCount: Number(r.requests),
    totalTokens: Number(r.tokens),
    costUsd: r.cost,
  }));
}
