import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asService, withClaims } from '../src/auth/withClaims.js';
import { signUpLocal } from '../src/local/auth.js';
import { reserveQuota } from '../src/queries/quotas.js';
import { appendMessage, startSession } from '../src/queries/sessions.js';
import { recordUsage } from '../src/queries/usage.js';
import { addPrice } from './support/fixtures.js';
import { freshDatabase, type TestDatabase } from './support/database.js';

// Drizzle's relational queries (db.query, src/schema/relations.ts) on the
// migrated database: the relations follow the foreign keys, and row-level
// security applies to what they read.
let t: TestDatabase;
let alice: string;
let bob: string;
let aliceSession: string;
let bobSession: string;

beforeAll(async () => {
  t = await freshDatabase();
  alice = await signUpLocal(t.db, { email: 'alice@example.com' });
  bob = await signUpLocal(t.db, { email: 'bob@example.com' });
  await addPrice(t, { provider: 'anthropic', model: 'claude-sonnet-4', effectiveFrom: '2025-01-01', inputPerMtok: 3, outputPerMtok: 15 });
  await asService(t.db, async (tx) => {
    aliceSession = (await startSession(tx, { userId: alice, agentMode: 'debug', title: 'alice' })).id;
    bobSession = (await startSession(tx, { userId: bob, agentMode: 'understand', title: 'bob' })).id;
    for (const [i, role] of (['user', 'assistant', 'tool', 'assistant'] as const).entries()) {
      await appendMessage(tx, { sessionId: aliceSession, role, content: `alice ${i + 1}` });
    }
    await appendMessage(tx, { sessionId: bobSession, role: 'user', content: 'bob 1' });
    const hold = await reserveQuota(tx, { userId: alice, idempotencyKey: 'r1', estimatedTokens: 100 });
    if (!hold.granted) throw new Error('reservation refused');
    await recordUsage(tx, {
      userId: alice, idempotencyKey: 'r1', reservationId: hold.reservationId, sessionId: aliceSession,
      provider: 'anthropic', model: 'claude-sonnet-4', agentMode: 'debug', inputTokens: 80,
    });
  });
});
afterAll(() => t?.close());

describe('relational reads', () => {
  it('a session with its messages, in sequence order either way', async () => {
    const ascending = await t.db.query.agentSessions.findFirst({
      where: (s, { eq }) => eq(s.id, aliceSession),
      with: { messages: { orderBy: (m, { asc }) => [asc(m.seq)] }, user: true },
    });
    expect(ascending?.title).toBe('alice');
    expect(ascending?.user.email).toBe('alice@example.com');
    expect(ascending?.messages.map((m) => [m.seq, m.content])).toEqual([
      [1, 'alice 1'],
      [2, 'alice 2'],
      [3, 'alice 3'],
      [4, 'alice 4'],
    ]);
    const descending = await t.db.query.agentSessions.findFirst({
      where: (s, { eq }) => eq(s.id, aliceSession),
      columns: { id: true },
      with: { messages: { columns: { seq: true }, orderBy: (m, { desc }) => [desc(m.seq)] } },
    });
    expect(descending?.messages.map((m) => m.seq)).toEqual([4, 3, 2, 1]);
  });

  it('a usage event with its user, session, message, reservation and price (and the price with its provider)', async () => {
    const event = await t.db.query.aiUsageEvents.findFirst({
      where: (e, { eq }) => eq(e.userId, alice),
      with: { user: true, session: true, message: true, reservation: true, price: { with: { aiProvider: true } } },
    });
    expect(event?.user.id).toBe(alice);
    expect(event?.session?.id).toBe(aliceSession);
    expect(event?.message).toBeNull();
    expect(event?.reservation?.status).toBe('settled');
    expect(event?.price?.model).toBe('claude-sonnet-4');
    expect(event?.price?.aiProvider.id).toBe('anthropic');
  });

  it("a profile with its sessions, usage, daily totals, quota (and tier) and reservations", async () => {
    const profile = await t.db.query.profiles.findFirst({
      where: (p, { eq }) => eq(p.id, alice),
      with: { sessions: true, usageEvents: true, dailyUsage: true, quota: { with: { tier: true } }, reservations: true },
    });
    expect(profile?.sessions.map((s) => s.id)).toEqual([aliceSession]);
    expect(profile?.usageEvents).toHaveLength(1);
    expect(profile?.dailyUsage.reduce((n, d) => n + d.totalTokens, 0)).toBe(80);
    expect(profile?.quota?.tier.id).toBe('free');
    expect(profile?.reservations).toHaveLength(1);
    const tier = await t.db.query.quotaTiers.findFirst({ where: (q, { eq }) => eq(q.id, 'free'), with: { userQuotas: true } });
    expect(tier?.userQuotas.map((q) => q.userId).sort()).toEqual([alice, bob].sort());
  });
});

describe('row-level security on relational reads', () => {
  const asAlice = <T>(fn: Parameters<typeof withClaims<T>>[2]) => withClaims(t.db, { role: 'authenticated', sub: alice }, fn);

  it("the signed-in user reads her own session with its messages, and not another user's", async () => {
    const own = await asAlice((tx) =>
      tx.query.agentSessions.findFirst({
        where: (s, { eq }) => eq(s.id, aliceSession),
        with: { messages: { orderBy: (m, { asc }) => [asc(m.seq)] } },
      }),
    );
    expect(own?.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    const others = await asAlice((tx) =>
      tx.query.agentSessions.findFirst({ where: (s, { eq }) => eq(s.id, bobSession), with: { messages: true } }),
    );
    expect(others).toBeUndefined();
    // As the backend, the same read finds it: the session is there, RLS hid it.
    const asBackend = await asService(t.db, (tx) => tx.query.agentSessions.findFirst({ where: (s, { eq }) => eq(s.id, bobSession) }));
    expect(asBackend?.title).toBe('bob');
  });

  it('every list she reads, top level or nested, holds only her rows', async () => {
    const sessions = await asAlice((tx) => tx.query.agentSessions.findMany({ with: { messages: true, user: true } }));
    expect(sessions.map((s) => s.id)).toEqual([aliceSession]);
    expect(sessions[0]!.messages.every((m) => m.userId === alice)).toBe(true);
    // Every signed-in user may read the tiers, but through them only her own quota row.
    const tier = await asAlice((tx) => tx.query.quotaTiers.findFirst({ where: (q, { eq }) => eq(q.id, 'free'), with: { userQuotas: true } }));
    expect(tier?.userQuotas.map((q) => q.userId)).toEqual([alice]);
  });
});
