import { createInsertSchema } from 'drizzle-zod';
import { z } from 'zod';
import { agentMessages, agentSessions } from '../schema/agentSessions.js';
import { agentModes, messageRoles, sessionStatuses } from '../schema/enums.js';
import { limits, messages } from '../schema/limits.js';

const uuid = () => z.uuid('must be a uuid');
const mode = z.enum(agentModes, 'must be one of understand, debug, implement');

export const startSessionInput = createInsertSchema(agentSessions, {
  title: () => z.string().max(limits.sessionTitleLength, messages.sessionTitle).optional(),
  model: () => z.string().min(1, messages.model).max(limits.modelLength, messages.modelAtMost).optional(),
})
  .pick({ title: true, model: true })
  .extend({
    userId: uuid(),
    agentMode: mode,
    /** What the client says about itself: workspace, editor, version. */
    clientMetadata: z.record(z.string(), z.unknown()).default({}),
  })
  .strict();
export type StartSessionInput = z.input<typeof startSessionInput>;

/** Largest message content, in characters. */
export const maxContentLength = limits.messageContentLength;

export const appendMessageInput = createInsertSchema(agentMessages, {
  content: () => z.string().max(maxContentLength, messages.messageContent),
  model: () => z.string().min(1, messages.model).max(limits.modelLength, messages.modelAtMost).optional(),
  latencyMs: () => z.number().int('must be a whole number').min(0, messages.latency).max(limits.latencyMs, messages.latency).optional(),
  inputTokens: () => z.number().int().min(0, messages.tokens).max(limits.tokensPerRequest, messages.tokens).default(0),
  outputTokens: () => z.number().int().min(0, messages.tokens).max(limits.tokensPerRequest, messages.tokens).default(0),
})
  .pick({ content: true, model: true, latencyMs: true, inputTokens: true, outputTokens: true })
  .extend({
    sessionId: uuid(),
    /** The session's owner, when the backend appends on a user's behalf. */
    userId: uuid().optional(),
    role: z.enum(messageRoles, 'must be one of user, assistant, system, tool'),
    /** Structured parts: tool calls ({ type: 'tool_call', ... }) and their results. */
    parts: z.array(z.object({ type: z.string().min(1) }).loose()).optional(),
  })
  .strict()
  .refine((m) => m.content.length > 0 || (m.parts?.length ?? 0) > 0, {
    message: 'must not be empty (or give parts)',
    path: ['content'],
  });
export type AppendMessageInput = z.input<typeof appendMessageInput>;

export const endSessionInput = z
  .object({
    sessionId: uuid(),
    userId: uuid().optional(),
    status: z.enum(['completed', 'failed', 'cancelled'], 'must be one of completed, failed, cancelled'),
  })
  .strict();

export const listSessionsInput = z
  .object({
    userId: uuid(),
    agentMode: mode.optional(),
    status: z.enum(sessionStatuses).optional(),
    limit: z.number().int().min(1).max(100, 'must be at most 100').default(20),
    /** Cursor: the `next` of the previous page. */
    after: z.object({ startedAt: z.date(), id: uuid() }).optional(),
  })
  .strict();

export const getSessionInput = z
  .object({
    sessionId: uuid(),
    userId: uuid().optional(),
    /** Messages after this sequence number (paging). */
    afterSeq: z.number().int().min(0).default(0),
    limit: z.number().int().min(1).max(500, 'must be at most 500').default(100),
  })
  .strict();

export const usageByModeInput = z
  .object({ userId: uuid(), month: z.iso.date('must be a date YYYY-MM-DD').optional() })
  .strict();
