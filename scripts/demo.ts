// npm run demo: a guided tour of the package on the embedded database (or
// DATABASE_URL when set). It migrates first, removes the users of any earlier
// demo run, then tells the product's story in short sections: sign-up,
// usage accounting, agent sessions, quota reservations, the original design's
// three queries, a quota table, row-level security seen from the outside, and
// a team sharing a budget.
import { sql } from 'drizzle-orm';
import {
  acceptInvitation,
  ackNotification,
  createGrant,
  createOrganisation,
  getGrantBalances,
  getOrganisationQuotaStatus,
  inviteMember,
  setDefaultMemberCaps,
  activeSessionsQuery,
  appendMessage,
  asAnon,
  asService,
  checkQuotaQuery,
  claimNotifications,
  endSession,
  getQuotaStatus,
  getSession,
  monthlyUsageQuery,
  pgErrorOf,
  queryRows,
  recordUsage,
  releaseQuota,
  reserveQuota,
  startSession,
  withClaims,
  type Connection,
  type Db,
  type Tx,
} from '../src/index.js';
import type { Message } from '@anthropic-ai/sdk/resources/messages';
import type { LanguageModelUsage } from 'ai';
import type { ChatResponse } from 'ollama';
import type { ChatCompletion } from 'openai/resources/chat/completions';
import {
  usageFromAiSdk,
  usageFromAnthropic,
  usageFromGemini,
  usageFromOllama,
  usageFromOpenAI,
  usageFromOpenRouter,
  type ProviderUsage,
} from '../src/adapters/index.js';
import { priceCatalog, syncPrices } from '../src/pricing/index.js';
import { connect, connectionLabel, signUpLocal } from '../src/local/index.js';
import { runMigrations } from '../src/migrate.js';
import type { RecordUsageInput } from '../src/validation/usage.js';

// ---------------------------------------------------------------------------
// Printing

type Cell = string | number | boolean | Date | null | undefined;
type Row = Record<string, Cell>;

function cellText(value: Cell): string {
  if (value === null || value === undefined) return '-';
  if (value instanceof Date) return value.toISOString().replace('T', ' ').slice(0, 19);
  return String(value);
}

const numeric = /^-?\d+(\.\d+)?%?$/;

/** A plain-text table: a header, a rule, and the rows; numbers lean right. */
function table(rows: Row[], columns: string[] = Object.keys(rows[0] ?? {})): void {
  if (rows.length === 0) {
    console.log('  (no rows)');
    return;
  }
  const cells = rows.map((row) => columns.map((c) => cellText(row[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[], alignNumbers: boolean) =>
    '  ' +
    values
      .map((v, i) => (alignNumbers && numeric.test(v) ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  console.log(line(columns, false));
  console.log(line(widths.map((w) => '-'.repeat(w)), false));
  for (const r of cells) console.log(line(r, true));
}

function section(title: string, ...explanation: string[]): void {
  console.log(`\n== ${title} ==`);
  for (const text of explanation) console.log(text);
  console.log('');
}

/** An exact USD amount from the database, trailing zeros trimmed (never through a float). */
function usd(amount: string | number | null | undefined): string | null {
  if (amount === null || amount === undefined) return null;
  const text = String(amount);
  if (!text.includes('.')) return `${text}.00`;
  const trimmed = text.replace(/0+$/, '');
  const decimals = trimmed.length - trimmed.indexOf('.') - 1;
  return decimals < 2 ? trimmed + '0'.repeat(2 - decimals) : trimmed;
}

/** Indents a SQL text for printing. */
function showSql(text: string): void {
  for (const l of text.split('\n')) console.log(`    ${l}`);
  console.log('');
}

// ---------------------------------------------------------------------------
// The story, one function per section

// Users made by the demo carry this mark in app_metadata (written by the
// server only), so a later run can find and remove them, whatever their
// sign-in method.
const demoMark = 'witchcraft-demo';

/** The demo's three users and how the tables name them. */
interface Users {
  ada: string;
  phone: string;
  guest: string;
  who(id: string): string;
}

/** What the demo is about, the migrations, and the users of any earlier run removed. */
async function prepare(connection: Connection): Promise<void> {
  console.log('Witchcraft database demo');
  console.log('Witchcraft is an AI coding assistant. This package is its database: who the');
  console.log('users are, what every AI request cost, what the agent did in each session, and');
  console.log('how much of their quota each user has left, with each user seeing only their own.');

  const where = connectionLabel(connection);
  const applied = await runMigrations(connection);
  console.log(`\nDatabase: ${where}; ${applied.length === 0 ? 'schema up to date' : `applied ${applied.length} migrations`}.`);
  // The demo's organisations go first (their members and totals with them).
  await queryRows(connection.db, sql`delete from public.organisations where created_by in
    (select id from auth.users where raw_app_meta_data ->> 'demo' = ${demoMark})`);
  const [removed] = await queryRows<{ n: number }>(
    connection.db,
    sql`with gone as (delete from auth.users where raw_app_meta_data ->> 'demo' = ${demoMark} returning 1)
        select count(*)::int as n from gone`,
  );
  if (Number(removed?.n ?? 0) > 0) {
    console.log(`Removed ${removed!.n} users left by an earlier demo run (their data goes with them).`);
  }
}

/** 1. Three sign-ups; the database gives each a profile and a quota on their tier. */
async function signUp(db: Db): Promise<Users> {
  section(
    '1. Sign-up',
    'Three people sign up through Supabase Auth (emulated here). A database trigger gives',
    'each a profile and a quota (the free tier, or the anonymous one for an anonymous sign-in);',
    'no application code is involved.',
  );
  const mark = (provider: string) => ({ provider, providers: [provider], demo: demoMark });
  const ada = await signUpLocal(db, {
    email: 'ada@demo.witchcraft.dev',
    emailConfirmed: true,
    userMetadata: { full_name: 'Ada Lovelace' },
    appMetadata: mark('email'),
  });
  const phone = await signUpLocal(db, { phone: '+15550100042', phoneConfirmed: true, appMetadata: mark('phone') });
  const guest = await signUpLocal(db, { isAnonymous: true, appMetadata: mark('anonymous') });
  const names = new Map([
    [ada, 'ada (email)'],
    [phone, 'phone user'],
    [guest, 'guest (anonymous)'],
  ]);
  const users: Users = { ada, phone, guest, who: (id) => names.get(id) ?? id };
  await printProfiles(db, users);
  await explainTheGuestTier(db, users);
  return users;
}

async function printProfiles(db: Db, users: Users): Promise<void> {
  const { ada, phone, guest, who } = users;
  const profiles = await queryRows<Record<string, Cell>>(
    db,
    sql`select p.id, p.email, p.email_verified, p.phone, p.display_name, p.is_anonymous,
               q.tier_id, q.monthly_token_limit, q.monthly_cost_limit_usd, q.daily_request_limit
        from public.profiles p join public.user_quotas q on q.user_id = p.id
        where p.id in (${ada}, ${phone}, ${guest})`,
  );
  table(
    [ada, phone, guest].map((id) => {
      const p = profiles.find((r) => r.id === id)!;
      return {
        user: who(id),
        email: p.email,
        verified: p.email_verified,
        phone: p.phone,
        name: p.display_name,
        tier: p.tier_id,
        'tokens/month': p.monthly_token_limit,
        'USD/month': usd(p.monthly_cost_limit_usd as string),
        'requests/day': p.daily_request_limit,
      };
    }),
  );
}

async function explainTheGuestTier(db: Db, { guest }: Users): Promise<void> {
  const [tier] = await queryRows<{ tier_id: string; monthly_token_limit: number; daily_request_limit: number }>(
    db,
    sql`select tier_id, monthly_token_limit, daily_request_limit from public.user_quotas where user_id = ${guest}`,
  );
  console.log(
    `\nThe guest signed in anonymously, so the database put them on the ${tier?.tier_id} tier: ` +
      `${tier?.monthly_token_limit} tokens a month and ${tier?.daily_request_limit} requests a day,\n` +
      'until they link an email (then they move to the free tier, and the move is audited).',
  );
}

/** 2. Requests recorded with each way of costing them, and a retry counted once. */
async function recordRequests(db: Db, users: Users): Promise<void> {
  section(
    '2. Recording AI usage',
    'Every AI request is one call to recordUsage, made by the backend as service_role. The cost is',
    'exact (numeric, never a float): given by the caller, computed from the price table, zero for a',
    'local model (Ollama), or left unknown when the model has no price. A retry with the same',
    'idempotency key is recognised and counted once.',
  );
  await addPrices(db);
  console.log('\nRequests recorded (cost USD "unknown": no price for that model yet):');
  const recorded: Row[] = [];
  for (const request of demoRequests(users)) {
    const r = await asService(db, (tx) => recordUsage(tx, request));
    recorded.push({
      user: users.who(request.userId),
      key: request.idempotencyKey,
      provider: request.provider,
      model: request.model,
      mode: request.agentMode,
      tokens: r.totalTokens,
      'cost USD': usd(r.costUsd) ?? 'unknown',
      'cost from': r.costSource,
      duplicate: r.duplicate,
    });
  }
  table(recorded);
  console.log('\nThe last line is a retry of req-ada-2: duplicate = true, nothing was counted twice.');
  await recordThroughAdapters(db, users);
}

async function addPrices(db: Db): Promise<void> {
  // The shipped price catalog, loaded as a deploy would (npm run db:seed); a second run adds nothing.
  await asService(db, (tx) => syncPrices(tx, priceCatalog));
  const [catalog] = await queryRows<{ n: number }>(
    db,
    sql`select count(*)::int as n from public.model_prices where source = ${priceCatalog.version}`,
  );
  console.log(
    `Price catalog ${priceCatalog.version}: ${catalog?.n} price rows, loaded by syncPrices (a second run adds nothing).`,
  );
  const prices = await queryRows<Record<string, Cell>>(
    db,
    sql`select distinct on (provider, model) provider, model, input_per_mtok, output_per_mtok, cached_input_per_mtok
        from public.model_prices
        where (provider, model) in (('anthropic', 'claude-sonnet-4'), ('openai', 'gpt-4.1')) and service_tier = 'standard'
          and min_context_tokens = 0
        order by provider, model, effective_from desc`,
  );
  console.log('Two of its prices, in USD per million tokens (service_role writes them; users can only read):');
  table(
    prices.map((p) => ({
      provider: p.provider,
      model: p.model,
      input: usd(p.input_per_mtok as string),
      output: usd(p.output_per_mtok as string),
      'cached input': usd(p.cached_input_per_mtok as string),
    })),
  );
}

/**
 * One request per provider, as each provider's SDK reports it, through its
 * adapter: the overlaps each provider has (cached tokens inside the prompt,
 * reasoning inside the completion) come out, so every token is priced once.
 */
async function recordThroughAdapters(db: Db, { ada }: Users): Promise<void> {
  const chat = (model: string, usage: ChatCompletion['usage'], serviceTier?: ChatCompletion['service_tier']): ChatCompletion => ({
    id: 'chatcmpl-demo',
    object: 'chat.completion',
    created: 1_764_000_000,
    model,
    choices: [{ index: 0, finish_reason: 'stop', logprobs: null, message: { role: 'assistant', content: 'ok', refusal: null } }],
    usage,
    ...(serviceTier ? { service_tier: serviceTier } : {}),
  });
  const message = {
    id: 'msg_demo',
    type: 'message',
    role: 'assistant',
    model: 'claude-sonnet-4-5-20250929',
    content: [],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: {
      input_tokens: 3_000,
      output_tokens: 900,
      cache_read_input_tokens: 40_000,
      cache_creation_input_tokens: 6_000,
      cache_creation: { ephemeral_5m_input_tokens: 2_000, ephemeral_1h_input_tokens: 4_000 },
      server_tool_use: { web_search_requests: 1, web_fetch_requests: 0 },
      service_tier: 'standard',
    },
  } as unknown as Message;
  const ollama = { model: 'qwen2.5-coder:14b', created_at: new Date(), message: { role: 'assistant', content: 'ok' }, done: true, done_reason: 'stop', prompt_eval_count: 2_400, eval_count: 700 } as ChatResponse;
  const aiSdk: LanguageModelUsage = {
    inputTokens: 2_000,
    inputTokenDetails: { noCacheTokens: 2_000, cacheReadTokens: 0, cacheWriteTokens: 0 },
    outputTokens: 600,
    outputTokenDetails: { textTokens: 600, reasoningTokens: 0 },
    totalTokens: 2_600,
  };
  const requests: [string, ProviderUsage][] = [
    ['usageFromOpenAI', usageFromOpenAI(chat('gpt-5-2025-08-07', { prompt_tokens: 12_000, completion_tokens: 3_000, total_tokens: 15_000, prompt_tokens_details: { cached_tokens: 8_000 }, completion_tokens_details: { reasoning_tokens: 2_200 } }))],
    ['usageFromOpenAI (batch)', usageFromOpenAI(chat('gpt-5', { prompt_tokens: 12_000, completion_tokens: 3_000, total_tokens: 15_000, prompt_tokens_details: { cached_tokens: 8_000 }, completion_tokens_details: { reasoning_tokens: 2_200 } }), { serviceTier: 'batch' })],
    ['usageFromAnthropic', usageFromAnthropic(message)],
    ['usageFromGemini', usageFromGemini({ modelVersion: 'gemini-2.5-pro', candidates: [{ finishReason: 'STOP' as never, index: 0 }], usageMetadata: { promptTokenCount: 230_000, cachedContentTokenCount: 30_000, candidatesTokenCount: 1_500, thoughtsTokenCount: 3_000, totalTokenCount: 234_500 } })],
    ['usageFromOllama', usageFromOllama(ollama)],
    ['usageFromOpenRouter', usageFromOpenRouter(chat('deepseek/deepseek-r1', { prompt_tokens: 2_000, completion_tokens: 1_700, total_tokens: 3_700, completion_tokens_details: { reasoning_tokens: 1_100 }, cost: 0.0043 } as ChatCompletion['usage']))],
    ['usageFromAiSdk', usageFromAiSdk(aiSdk, { provider: 'mistral.chat', model: 'mistral-large-latest' })],
  ];
  console.log('\nOne request per provider, as its SDK reports it, through its adapter (every token priced once):');
  const rows: Row[] = [];
  for (const [i, [adapter, usage]] of requests.entries()) {
    const r = await asService(db, (tx) => recordUsage(tx, { userId: ada, idempotencyKey: `req-ada-adapter-${i + 1}`, agentMode: 'implement', ...usage }));
    rows.push({
      adapter,
      model: usage.model,
      tier: usage.serviceTier,
      input: usage.inputTokens,
      cached: usage.cachedInputTokens,
      'cache write (1h)': `${usage.cacheWriteTokens} (${usage.cacheWrite1hTokens})`,
      output: usage.outputTokens,
      reasoning: usage.reasoningTokens,
      searches: usage.webSearchRequests,
      'cost from': r.costSource,
      'cost USD': usd(r.costUsd) ?? 'unknown',
    });
  }
  table(rows);
  console.log('The Gemini request has a prompt over 200,000 tokens: all of it is billed at the long-context rates.');
}

function demoRequests({ ada, phone, guest }: Users): RecordUsageInput[] {
  return [
    { userId: ada, idempotencyKey: 'req-ada-1', provider: 'anthropic', model: 'claude-sonnet-4', agentMode: 'understand', inputTokens: 12_000, outputTokens: 900, cachedInputTokens: 8_000, latencyMs: 2400 },
    { userId: ada, idempotencyKey: 'req-ada-2', provider: 'openai', model: 'gpt-4.1', agentMode: 'debug', inputTokens: 6_500, outputTokens: 1_200, latencyMs: 1800 },
    { userId: ada, idempotencyKey: 'req-ada-3', provider: 'ollama', model: 'qwen2.5-coder:14b', agentMode: 'implement', inputTokens: 4_000, outputTokens: 2_500, latencyMs: 5200 },
    { userId: ada, idempotencyKey: 'req-ada-4', provider: 'google', model: 'gemini-experimental-0101', agentMode: 'understand', inputTokens: 3_000, outputTokens: 400, latencyMs: 1500 },
    { userId: ada, idempotencyKey: 'req-ada-5', provider: 'openrouter', model: 'deepseek/deepseek-r1', agentMode: 'debug', inputTokens: 2_000, outputTokens: 600, reasoningTokens: 1_100, costUsd: '0.0043', latencyMs: 3100 },
    { userId: phone, idempotencyKey: 'req-phone-1', provider: 'anthropic', model: 'claude-sonnet-4', agentMode: 'implement', inputTokens: 9_000, outputTokens: 3_000, latencyMs: 4100 },
    { userId: guest, idempotencyKey: 'req-guest-1', provider: 'openai', model: 'gpt-4.1', agentMode: 'understand', inputTokens: 3_000, outputTokens: 500, latencyMs: 900 },
    // The same request again: a client retry after a timeout.
    { userId: ada, idempotencyKey: 'req-ada-2', provider: 'openai', model: 'gpt-4.1', agentMode: 'debug', inputTokens: 6_500, outputTokens: 1_200, latencyMs: 1800 },
  ];
}

/** 3. Two agent sessions, one finished and one still open, and the figures the database kept. */
async function runSessions(db: Db, users: Users): Promise<void> {
  section(
    '3. Agent sessions',
    'A session is one conversation with the agent. Messages get their order from the database;',
    'tool calls, tokens, cost and latency are added up as they arrive, so reading a session',
    'never rescans its messages.',
  );
  const { ada } = users;
  const debugging = await asService(db, (tx) =>
    startSession(tx, { userId: ada, agentMode: 'debug', title: 'Fix the flaky login test', model: 'claude-sonnet-4', clientMetadata: { editor: 'vscode' } }),
  );
  const reading = await asService(db, (tx) =>
    startSession(tx, { userId: ada, agentMode: 'understand', title: 'How does billing work?', model: 'claude-sonnet-4' }),
  );
  await asService(db, async (tx) => {
    await debugTheFlakyTest(tx, ada, debugging.id);
    await askAboutBilling(tx, ada, reading.id);
  });
  await printSessionFigures(db, users, [debugging.id, reading.id]);
  console.log('\nThe first session is completed; the second is still open (it shows up in section 5).');
  console.log('Tokens and cost come from the usage events linked to each session.');
}

async function debugTheFlakyTest(tx: Tx, ada: string, s: string): Promise<void> {
  await appendMessage(tx, { sessionId: s, role: 'user', content: 'tests/login.test.ts fails one run in five. Why?' });
  const m2 = await appendMessage(tx, {
    sessionId: s,
    role: 'assistant',
    content: 'Let me read the test and the session helper.',
    parts: [
      { type: 'tool_call', name: 'read_file', args: { path: 'tests/login.test.ts' } },
      { type: 'tool_call', name: 'read_file', args: { path: 'src/session.ts' } },
    ],
    model: 'claude-sonnet-4',
    latencyMs: 2100,
  });
  await recordUsage(tx, { userId: ada, sessionId: s, messageId: m2.id, idempotencyKey: 'req-ada-s1', provider: 'anthropic', model: 'claude-sonnet-4', agentMode: 'debug', inputTokens: 7_000, outputTokens: 350, latencyMs: 2100 });
  await appendMessage(tx, { sessionId: s, role: 'tool', content: '', parts: [{ type: 'tool_result', name: 'read_file', ok: true }] });
  const m4 = await appendMessage(tx, {
    sessionId: s,
    role: 'assistant',
    content: 'The test shares a clock with the token refresher; I will freeze it.',
    parts: [{ type: 'tool_call', name: 'edit_file', args: { path: 'tests/login.test.ts' } }],
    model: 'claude-sonnet-4',
    latencyMs: 3400,
  });
  await recordUsage(tx, { userId: ada, sessionId: s, messageId: m4.id, idempotencyKey: 'req-ada-s2', provider: 'anthropic', model: 'claude-sonnet-4', agentMode: 'debug', inputTokens: 9_500, outputTokens: 1_100, latencyMs: 3400 });
  const m5 = await appendMessage(tx, { sessionId: s, role: 'assistant', content: 'Fixed: 200 runs, no failure.', model: 'claude-sonnet-4', latencyMs: 900 });
  await recordUsage(tx, { userId: ada, sessionId: s, messageId: m5.id, idempotencyKey: 'req-ada-s3', provider: 'anthropic', model: 'claude-sonnet-4', agentMode: 'debug', inputTokens: 11_000, outputTokens: 120, cachedInputTokens: 9_000, latencyMs: 900 });
  await endSession(tx, { sessionId: s, status: 'completed' });
}

async function askAboutBilling(tx: Tx, ada: string, r: string): Promise<void> {
  await appendMessage(tx, { sessionId: r, role: 'user', content: 'Walk me through the billing module.' });
  const r2 = await appendMessage(tx, {
    sessionId: r,
    role: 'assistant',
    content: 'Billing starts in src/billing/index.ts ...',
    parts: [{ type: 'tool_call', name: 'search', args: { query: 'invoice' } }],
    model: 'claude-sonnet-4',
    latencyMs: 1600,
  });
  await recordUsage(tx, { userId: ada, sessionId: r, messageId: r2.id, idempotencyKey: 'req-ada-s4', provider: 'anthropic', model: 'claude-sonnet-4', agentMode: 'understand', inputTokens: 5_200, outputTokens: 700, latencyMs: 1600 });
}

async function printSessionFigures(db: Db, { who }: Users, sessionIds: string[]): Promise<void> {
  const figures: Row[] = [];
  for (const id of sessionIds) {
    const detail = await asService(db, (tx) => getSession(tx, { sessionId: id }));
    if (!detail) throw new Error(`session ${id} vanished`);
    const s = detail.session;
    figures.push({
      user: who(s.userId),
      title: s.title,
      mode: s.agentMode,
      status: s.status,
      messages: s.messageCount,
      'tool calls': s.toolCallCount,
      'avg ms': detail.latency.avgMs === null ? null : Math.round(detail.latency.avgMs),
      'p95 ms': detail.latency.p95Ms,
      tokens: s.totalTokens,
      'cost USD': usd(s.costUsd),
    });
  }
  table(figures);
}

/** 4. The guest reserves quota until the database refuses; one hold is settled, one released. */
async function reserveUntilRefused(db: Db, { guest }: Users): Promise<void> {
  section(
    '4. Quota: reserve before each request',
    'Before calling a model the backend reserves an estimate. The database grants it only if',
    'use + holds + estimate stay within every limit, one decision at a time per user, so',
    'concurrent requests never overspend. The guest (20,000 tokens, 3,500 used) asks for 4,000 at a time.',
  );
  const grants: string[] = [];
  for (let i = 1; i <= 10; i++) {
    const key = `guest-reserve-${i}`;
    const r = await asService(db, (tx) => reserveQuota(tx, { userId: guest, idempotencyKey: key, estimatedTokens: 4_000, estimatedCostUsd: '0.01' }));
    if (r.granted) {
      grants.push(r.reservationId);
      console.log(`  ${key}: granted, ${r.tokensRemaining} tokens left after this hold`);
    } else {
      console.log(`  ${key}: REFUSED by ${r.reason} (${r.tokensRemaining} tokens left, 4000 asked)`);
      break;
    }
  }
  const [first, second] = grants;
  if (!first || !second) throw new Error('expected at least two grants before the refusal');
  const settled = await asService(db, (tx) =>
    recordUsage(tx, { userId: guest, reservationId: first, idempotencyKey: 'req-guest-2', provider: 'openai', model: 'gpt-4.1', agentMode: 'implement', inputTokens: 4_200, outputTokens: 900, latencyMs: 1200 }),
  );
  console.log(`\nThe first request ran and used ${settled.totalTokens} tokens, a little over its estimate (cost USD ${usd(settled.costUsd)}):`);
  console.log('recordUsage({ reservationId }) settles its hold and counts what was really used.');
  const released = await asService(db, (tx) => releaseQuota(tx, { userId: guest, reservationId: second }));
  console.log(`The second request failed before reaching the model: releaseQuota gives its hold back (released: ${released}).`);
  const after = await asService(db, (tx) => getQuotaStatus(tx, { userId: guest }));
  console.log(`Guest now: ${after?.tokensUsed} used + ${after?.tokensReserved} held of ${after?.monthlyTokenLimit}; ${after?.tokensRemaining} tokens left.`);

  // What the guest heard: their own rows, read as the guest (RLS), as their client gets them live through Realtime.
  const told = await withClaims(db, { role: 'authenticated', sub: guest }, (tx) =>
    queryRows<Row>(tx, sql`select kind, quota_limit, threshold_percent as "threshold %", used, limit_value as "limit"
      from quota_notifications order by id`),
  );
  console.log('\nWhat the guest was told (quota_notifications, pushed to their client by Supabase Realtime):');
  table(told);
  let delivered = 0;
  for (const n of await asService(db, (tx) => claimNotifications(tx, { batch: 100 }))) {
    if (await asService(db, (tx) => ackNotification(tx, { id: n.id, claimId: n.claimId }))) delivered += 1;
  }
  console.log(`A backend's outbox worker claimed and acknowledged ${delivered} notification(s): each is delivered once.`);
}

/** 5. The original design's three SQL texts, run unchanged. */
async function seedQueries(connection: Connection, { ada, phone, guest, who }: Users): Promise<void> {
  section(
    "5. The original design's three queries, word for word",
    'These SQL texts come from the first design of Witchcraft and run unchanged on this schema.',
  );
  console.log("a) Ada's usage this month, per provider and model:");
  showSql(monthlyUsageQuery);
  const monthly = await connection.query<Record<string, Cell>>(monthlyUsageQuery, [ada]);
  monthly.sort((x, y) => `${x.provider}/${x.model}`.localeCompare(`${y.provider}/${y.model}`));
  table(monthly.map((r) => ({ provider: r.provider, model: r.model, total_tokens: r.total_tokens, total_cost: usd(r.total_cost as string | null) })));

  console.log('Unpriced requests (gemini here) count their tokens at no cost until a price is added.');
  console.log('\nb) Sessions still open, with their owner and message count:');
  showSql(activeSessionsQuery);
  const active = await connection.query<Record<string, Cell>>(activeSessionsQuery);
  console.log('  (s.* has many columns; a few are shown)');
  table(active.map((r) => ({ id: String(r.id).slice(0, 8), email: r.email, agent_mode: r.agent_mode, title: r.title, status: r.status, message_count: r.message_count })));

  console.log("\nc) Each demo user's monthly token limit, use and remainder:");
  showSql(checkQuotaQuery);
  const checks: Row[] = [];
  for (const id of [ada, phone, guest]) {
    for (const r of await connection.query<Record<string, Cell>>(checkQuotaQuery, [id])) checks.push({ user: who(id), ...r });
  }
  table(checks);
  console.log('\nThe seed counts recorded tokens only; quota status below also counts the holds in flight.');
}

/** 6. getQuotaStatus for every demo user, as a table. */
async function quotaTable(db: Db, { ada, phone, guest, who }: Users): Promise<void> {
  section(
    '6. Quota status of every demo user (getQuotaStatus)',
    'Limits come from the tier unless overridden. "soft" is the warning threshold (80% of a',
    'limit, holds included); "hard" means some limit is used up and reservations are refused.',
  );
  const quotaRows: Row[] = [];
  for (const id of [ada, phone, guest]) {
    const q = await asService(db, (tx) => getQuotaStatus(tx, { userId: id }));
    if (!q) throw new Error(`no quota status for ${who(id)}`);
    quotaRows.push({
      user: who(id),
      tier: q.tierId,
      limit: q.monthlyTokenLimit,
      used: q.tokensUsed,
      reserved: q.tokensReserved,
      remaining: q.tokensRemaining,
      '%': `${q.tokensPercent}%`,
      'cost USD': `${usd(q.costUsedUsd)} of ${usd(q.monthlyCostLimitUsd)}`,
      'requests today': `${q.requestsToday} of ${q.dailyRequestLimit}`,
      soft: q.softLimitReached,
      hard: q.hardLimitReached,
    });
  }
  table(quotaRows);
}

/** 7. What a signed-in user and a visitor can see. */
async function rowLevelSecurity(db: Db, { ada, phone }: Users): Promise<void> {
  section(
    '7. Row-level security, from the outside',
    'The Witchcraft client talks to Supabase directly, as the signed-in user or as anon. Only',
    'row-level security stands between them and other users\' data:',
  );
  const [total] = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from public.ai_usage_events`);
  const seen = await withClaims(db, { role: 'authenticated', sub: ada }, async (tx) => {
    const [mine] = await queryRows<{ n: number }>(tx, sql`select count(*)::int as n from public.ai_usage_events`);
    const other = await getQuotaStatus(tx, { userId: phone });
    const own = await getQuotaStatus(tx, { userId: ada });
    return { rows: Number(mine?.n ?? 0), other, own };
  });
  console.log(`  Ada (authenticated) sees ${seen.rows} of the ${total?.n} usage events in the database: her own.`);
  console.log(`  Ada asks for her own quota status: ${seen.own ? `${seen.own.tokensRemaining} tokens remaining` : 'null'}.`);
  console.log(`  Ada asks for the phone user's quota status: ${seen.other === null ? 'null' : 'VISIBLE (this would be a leak)'}.`);
  const denied = await asAnon(db, (tx) => queryRows(tx, sql`select count(*) from public.ai_usage_events`)).then(
    () => 'ALLOWED (this would be a leak)',
    (error: unknown) => pgErrorOf(error).message,
  );
  console.log(`  anon (no sign-in) reads usage events: ${denied}.`);
}

/** 8. A team: an organisation of three, a shared budget, a member cap, a rate limit and a grant. */
async function team(db: Db, { ada }: Users): Promise<void> {
  section(
    '8. Teams: a shared budget',
    'Ada starts an organisation and invites two colleagues by email; each accepts as themselves.',
    "The organisation's requests count against its budget and each member's cap, not their",
    'personal quotas. Tier, budget and per-minute limits are billing\'s (service_role).',
  );
  const mark = { provider: 'email', providers: ['email'], demo: demoMark };
  const grace = await signUpLocal(db, { email: 'grace@demo.witchcraft.dev', emailConfirmed: true, appMetadata: mark });
  const linus = await signUpLocal(db, { email: 'linus@demo.witchcraft.dev', emailConfirmed: true, appMetadata: mark });
  const as = <T>(user: string, fn: (tx: Tx) => Promise<T>) => withClaims(db, { role: 'authenticated', sub: user }, fn);
  const org = await as(ada, (tx) => createOrganisation(tx, { name: 'Analytical Engines' }));
  for (const [user, email, role] of [[grace, 'grace@demo.witchcraft.dev', 'admin'], [linus, 'linus@demo.witchcraft.dev', 'member']] as const) {
    const invitation = await as(ada, (tx) => inviteMember(tx, { organisationId: org, email, role }));
    await as(user, (tx) => acceptInvitation(tx, { token: invitation.token }));
  }
  await as(grace, (tx) => setDefaultMemberCaps(tx, { organisationId: org, monthlyTokens: 5_000, monthlyCostUsd: null }));
  const names = new Map([[ada, 'ada'], [grace, 'grace'], [linus, 'linus']]);
  const members = await as(ada, (tx) =>
    queryRows<{ user_id: string; role: string }>(tx, sql`select user_id, role from organisation_members
      where organisation_id = ${org} order by role, created_at`),
  );
  console.log('Members, read by Ada under RLS (ids and roles: each profile stays its owner\'s);');
  console.log('Grace, an admin, set a cap of 5,000 tokens a month per member:');
  table(members.map((m) => ({ member: names.get(m.user_id) ?? m.user_id, role: m.role })));

  await asService(db, (tx) => queryRows(tx, sql`update organisations set requests_per_minute_override = 3 where id = ${org}`));
  await asService(db, (tx) =>
    recordUsage(tx, { userId: linus, organisationId: org, idempotencyKey: 'team-linus-1', provider: 'openai', model: 'gpt-4.1', agentMode: 'implement', inputTokens: 3_800, outputTokens: 700 }),
  );
  const ask = (user: string, key: string) =>
    asService(db, (tx) => reserveQuota(tx, { userId: user, organisationId: org, idempotencyKey: key, estimatedTokens: 1_000, provider: 'openai', model: 'gpt-4.1' }));
  const linusAsks = await ask(linus, 'team-linus-2');
  const graceAsks = await ask(grace, 'team-grace-1');
  console.log(`\nLinus used 4,500 tokens for the team and asks for 1,000 more: ${linusAsks.granted ? 'granted' : `REFUSED by ${linusAsks.reason}`}.`);
  console.log(`Grace asks for 1,000 at the same time: ${graceAsks.granted ? 'granted' : `REFUSED by ${graceAsks.reason}`} (her cap is her own).`);

  console.log('\nBilling has set the team to 3 requests a minute (a minute\'s worth may come at once). Grace sends three more:');
  for (let i = 2; i <= 4; i++) {
    const r = await ask(grace, `team-grace-${i}`);
    console.log(
      `  team-grace-${i}: ${r.granted ? 'granted' : `REFUSED by ${r.reason}, retry in about ${Math.ceil((r.retryAfterMs ?? 0) / 1000)} s`}`,
    );
  }

  await asService(db, (tx) => createGrant(tx, { organisationId: org, tokens: 100_000, reason: 'Launch promotion', priority: 1, expiresAt: new Date(Date.now() + 30 * 86_400_000) }));
  const status = await as(ada, (tx) => getOrganisationQuotaStatus(tx, { organisationId: org, userId: linus }));
  const balances = await as(ada, (tx) => getGrantBalances(tx, { organisationId: org }));
  if (!status) throw new Error('no organisation status');
  console.log('\nA grant of 100,000 tokens (service_role, audited) tops up the month. The team, as Ada sees it:');
  table([
    {
      tier: status.tierId,
      limit: status.monthlyTokenLimit,
      grants: status.grantTokens,
      used: status.tokensUsed,
      held: status.tokensReserved,
      "Linus's cap": status.member.tokenCap,
      'Linus used': status.member.tokensUsed,
      'Linus left': status.member.tokensRemaining,
    },
  ]);
  table(balances.map((b) => ({ grant: b.reason, tokens: b.tokens, left: b.tokensRemaining })));
  const linusSees = await as(linus, (tx) =>
    queryRows<{ n: number }>(tx, sql`select count(distinct user_id)::int as n from organisation_member_usage_daily where organisation_id = ${org}`),
  );
  console.log(`Linus, a plain member, reads the per-member figures of ${linusSees[0]?.n} member: his own.`);
}

async function main(connection: Connection): Promise<void> {
  const db = connection.db;
  await prepare(connection);
  const users = await signUp(db);
  await recordRequests(db, users);
  await runSessions(db, users);
  await reserveUntilRefused(db, users);
  await seedQueries(connection, users);
  await quotaTable(db, users);
  await rowLevelSecurity(db, users);
  await team(db, users);
  console.log('\nDone. Run it again: it removes its own users first. The tests: npm test.');
}

const connection = await connect();
try {
  await main(connection);
} catch (error) {
  console.error('\ndemo failed:', error instanceof Error ? error.message : error);
  process.exitCode = 1;
} finally {
  await connection.close();
}
