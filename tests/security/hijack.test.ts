// A SECURITY DEFINER function runs with its owner's rights. Every role may
// create temporary objects (PUBLIC's TEMP privilege), and with
// `search_path = ''` the session's pg_temp schema is still searched first for
// types and tables: a temporary domain named `text` would run its CHECK, a
// function of the attacker's, with the owner's rights. Our functions set
// `search_path = pg_catalog, pg_temp` (pg_temp last). Here an attacker plants
// such domains and tables as a signed-in user, as service_role and as
// Supabase Auth, then goes down every path that reaches our functions; the
// planted code must never run. A control shows it does run in a function that
// only empties its search_path.
import { sql, type SQL } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Tx } from '../../src/db.js';
import { queryRows } from '../../src/db.js';
import { signUpLocal } from '../../src/local/auth.js';
import { recordUsage } from '../../src/queries/usage.js';
import { freshDatabase, type TestDatabase } from '../support/database.js';
import { startTestSession } from '../support/fixtures.js';

let t: TestDatabase;
let mallory: string;
let malloryEvent: number;

// The types our function bodies and signatures use, by the names the search
// path resolves (bigint, integer, boolean, numeric and interval are keywords
// the parser maps to pg_catalog itself).
const shadowedTypes = ['text', 'uuid', 'int8', 'int4', 'int2', 'jsonb', 'bool', 'timestamptz', 'date', 'float8', 'varchar'];
// Our tables, in case a body named one without its schema.
const shadowedTables = ['profiles', 'user_quotas', 'quota_tiers', 'quota_reservations', 'ai_usage_events', 'ai_usage_daily',
  'agent_sessions', 'agent_messages', 'audit_log', 'model_prices', 'ai_providers'];

class Rollback extends Error {}

/** Runs `fn` in a transaction as `role` (with claims for a signed-in user), always rolled back. */
async function asRole(role: string, sub: string | null, fn: (tx: Tx) => Promise<void>): Promise<void> {
  await t.db
    .transaction(async (tx) => {
      await tx.execute(sql`select set_config('role', ${role}, true),
        set_config('request.jwt.claims', ${JSON.stringify(sub ? { role, sub } : { role })}, true)`);
      await fn(tx as Tx);
      throw new Rollback();
    })
    .catch((error: unknown) => {
      if (!(error instanceof Rollback)) throw error;
    });
}

/** Plants the trap in this session: a function that records who ran it and tries to make Mallory an admin. */
async function plant(tx: Tx): Promise<void> {
  await tx.execute(sql.raw(`create table pg_temp.hijacked (who pg_catalog.text, at pg_catalog.text)`));
  await tx.execute(sql.raw(`create function pg_temp.evil() returns pg_catalog.bool language plpgsql as $evil$
    begin
      insert into pg_temp.hijacked values (current_user, 'domain check');
      begin
        update public.profiles set is_admin = true where id = '${mallory}';
      exception when others then null;
      end;
      return true;
    end $evil$`));
  for (const type of shadowedTypes) {
    await tx.execute(sql.raw(`create domain pg_temp.${type} as pg_catalog.${type} check (pg_temp.evil())`));
  }
  for (const table of shadowedTables) {
    await tx.execute(sql.raw(`create table pg_temp.${table} (id pg_catalog.int4)`));
    await tx.execute(sql.raw(`create function pg_temp.evil_${table}() returns trigger language plpgsql as $evil$
      begin insert into pg_temp.hijacked values (current_user, '${table}'); return new; end $evil$`));
  }
}

/** Runs a statement in a savepoint: a refusal (expected on some paths) does not end the attack. */
async function attempt(tx: Tx, statement: SQL): Promise<void> {
  await tx.transaction(async (sp) => {
    await sp.execute(statement);
  }).catch(() => undefined);
}

/**
 * What the planted code did with rights other than the attacker's own. (It
 * may run as the attacker: Supabase's auth.uid() is a plain SQL function whose
 * casts the caller's search path resolves, which gains the caller nothing.)
 */
async function caught(tx: Tx, attacker: string): Promise<{ hijacked: string[]; admin: boolean }> {
  await tx.execute(sql.raw('reset role'));
  const ran = await queryRows<{ who: string; at: string }>(tx, sql.raw(`select who, at from pg_temp.hijacked`));
  const [m] = await queryRows<{ is_admin: boolean }>(tx, sql.raw(`select pg_catalog.bool(is_admin) as is_admin from public.profiles where id = '${mallory}'`));
  return { hijacked: ran.filter((r) => r.who !== attacker).map((r) => `${r.who}: ${r.at}`), admin: m?.is_admin ?? false };
}

beforeAll(async () => {
  t = await freshDatabase();
  mallory = await signUpLocal(t.db, { email: 'mallory@example.com' });
  await startTestSession(t, mallory, { title: 'bait' });
  malloryEvent = (await recordUsage(t.db, { userId: mallory, idempotencyKey: 'seed', provider: 'ollama', model: 'llama3', agentMode: 'debug', inputTokens: 100 })).eventId;
  // The control: a definer function that only empties its search_path, as ours once did.
  await t.rows(sql.raw(`create function private.hijack_probe() returns int language plpgsql security definer set search_path = ''
    as $$ declare v text := 'x'; begin return 1; end $$`));
  await t.rows(sql.raw(`grant execute on function private.hijack_probe() to authenticated, service_role`));
});
afterAll(() => t?.close());

describe('temporary objects cannot borrow the owner\'s rights', () => {
  it('control: a definer function with an empty search_path runs the planted check as its owner', async () => {
    let result: Awaited<ReturnType<typeof caught>> | undefined;
    await asRole('authenticated', mallory, async (tx) => {
      await plant(tx);
      await attempt(tx, sql.raw(`select private.hijack_probe()`));
      result = await caught(tx, 'authenticated');
    });
    expect(result!.hijacked).toEqual(['postgres: domain check']);
    expect(result!.admin).toBe(true);
  });

  it('as a signed-in user: messages, sessions, profile, admin checks and the read functions', async () => {
    let result: Awaited<ReturnType<typeof caught>> | undefined;
    await asRole('authenticated', mallory, async (tx) => {
      await plant(tx);
      const [s] = await queryRows<{ id: string }>(tx, sql.raw(`select id::pg_catalog.text as id from public.agent_sessions limit 1`));
      await attempt(tx, sql.raw(`insert into public.agent_messages (session_id, role, content, parts, latency_ms)
        values ('${s!.id}', 'user', 'hello', '[{"type":"tool_call"}]', 5)`));
      await attempt(tx, sql.raw(`insert into public.agent_sessions (user_id, agent_mode, title, client_metadata)
        values ('${mallory}', 'debug', 'second', '{"editor":"x"}')`));
      await attempt(tx, sql.raw(`update public.agent_sessions set status = 'completed' where title = 'second'`));
      await attempt(tx, sql.raw(`update public.profiles set display_name = 'M\u202Eallory', avatar_url = 'https://example.com/a.png' where id = '${mallory}'`));
      await attempt(tx, sql.raw(`select count(*) from public.ai_usage_events`));
      await attempt(tx, sql.raw(`select count(*) from public.ai_usage_daily`));
      await attempt(tx, sql.raw(`select * from public.get_quota_status()`));
      await attempt(tx, sql.raw(`select * from public.get_monthly_usage()`));
      await attempt(tx, sql.raw(`select * from public.session_latency('${s!.id}')`));
      // And what a user may not call at all.
      await attempt(tx, sql.raw(`select * from public.record_usage('${mallory}', 'k', 'ollama', 'llama3', 'debug', 1)`));
      result = await caught(tx, 'authenticated');
      // The paths were really taken: the message and the session went in.
      const [done] = await queryRows<{ messages: number; sessions: number }>(tx, sql.raw(`select
        (select count(*)::int from public.agent_messages where content = 'hello') as messages,
        (select count(*)::int from public.agent_sessions where title = 'second' and status = 'completed') as sessions`));
      expect(done).toEqual({ messages: 1, sessions: 1 });
    });
    expect(result).toEqual({ hijacked: [], admin: false });
  });

  it('as service_role: every accounting, quota, session and retention function, and the audit triggers', async () => {
    let result: Awaited<ReturnType<typeof caught>> | undefined;
    await asRole('service_role', null, async (tx) => {
      await plant(tx);
      const [s] = await queryRows<{ id: string }>(tx, sql.raw(`select id::pg_catalog.text as id from public.agent_sessions limit 1`));
      const [r] = await queryRows<{ id: string }>(tx, sql.raw(`select reservation_id::pg_catalog.text as id
        from public.reserve_quota('${mallory}', 'hold-1', 100, 0.01, '1 minute')`));
      await attempt(tx, sql.raw(`select * from public.record_usage('${mallory}', 'rec-1', 'ollama', 'llama3', 'debug', 10, 5,
        p_session_id => '${s!.id}', p_reservation_id => '${r!.id}', p_latency_ms => 20, p_occurred_at => now() - interval '1 hour')`));
      await attempt(tx, sql.raw(`select * from public.record_usage('${mallory}', 'rec-2', 'openai', 'gpt-4.1', 'debug', 10, p_cost_usd => 0.5)`));
      await attempt(tx, sql.raw(`select * from public.record_adjustment(${malloryEvent}, 'fix-1', 'refund', p_input_tokens => -10)`));
      await attempt(tx, sql.raw(`select * from public.reserve_quota('${mallory}', 'hold-2', 100)`));
      await attempt(tx, sql.raw(`select public.release_quota('${mallory}', '${r!.id}')`));
      await attempt(tx, sql.raw(`select public.expire_quota_reservations()`));
      await attempt(tx, sql.raw(`select public.purge_usage_events('400 days')`));
      await attempt(tx, sql.raw(`select public.purge_audit_log('400 days')`));
      await attempt(tx, sql.raw(`select public.close_idle_sessions('1 minute')`));
      await attempt(tx, sql.raw(`insert into public.agent_messages (session_id, role, content) values ('${s!.id}', 'assistant', 'hi')`));
      await attempt(tx, sql.raw(`update public.user_quotas set monthly_token_limit_override = 5000 where user_id = '${mallory}'`));
      await attempt(tx, sql.raw(`update public.quota_tiers set daily_request_limit = 499 where id = 'free'`));
      await attempt(tx, sql.raw(`update public.profiles set is_admin = false where id = '${mallory}'`));
      result = await caught(tx, 'service_role');
      const [done] = await queryRows<{ events: number; released: number; messages: number }>(tx, sql.raw(`select
        (select count(*)::int from public.ai_usage_events where idempotency_key in ('rec-1', 'rec-2', 'fix-1')) as events,
        (select count(*)::int from public.quota_reservations where status = 'settled') as released,
        (select count(*)::int from public.agent_messages where content = 'hi') as messages`));
      expect(done).toEqual({ events: 3, released: 1, messages: 1 });
    });
    expect(result).toEqual({ hijacked: [], admin: false });
  });

  it('as Supabase Auth (supabase_auth_admin): sign-up, changes and deletion of auth users', async () => {
    let result: Awaited<ReturnType<typeof caught>> | undefined;
    await asRole('supabase_auth_admin', null, async (tx) => {
      await plant(tx);
      const id = '00000000-0000-4000-8000-00000000beef';
      await attempt(tx, sql.raw(`insert into auth.users (instance_id, id, aud, role, email, raw_user_meta_data, is_anonymous)
        values ('00000000-0000-0000-0000-000000000000', '${id}', 'authenticated', 'authenticated', 'trap@example.com',
                '{"full_name":"Trap"}', true)`));
      await attempt(tx, sql.raw(`update auth.users set email = 'linked@example.com', is_anonymous = false, email_confirmed_at = now() where id = '${id}'`));
      await attempt(tx, sql.raw(`delete from auth.users where id = '${id}'`));
      result = await caught(tx, 'supabase_auth_admin');
      const [done] = await queryRows<{ deleted: number }>(tx, sql.raw(`select count(*)::int as deleted from public.audit_log
        where action = 'user.deleted' and entity_id = '00000000-0000-4000-8000-00000000beef'`));
      expect(done!.deleted).toBe(1);
    });
    expect(result).toEqual({ hijacked: [], admin: false });
  });
});
