// Type tests (vitest --typecheck): supabase-js typed by the Database type
// derived from the Drizzle schema. Nothing here talks to a server: the client
// is only built so its methods' types can be checked.
import { createClient } from '@supabase/supabase-js';
import { describe, expectTypeOf, test } from 'vitest';
import type { Database, Enums, Json, Tables, TablesInsert, Views } from '../src/supabase/database.js';
import type { FunctionsOf } from '../src/supabase/functions.js';
import { callFunction, type DbOrTx, type RpcArgs, type RpcResult } from '../src/index.js';

const supabase = createClient<Database>('http://localhost:54321', 'anon-key');

describe('tables', () => {
  test('ai_usage_daily rows come typed with snake_case columns as the wire gives them', async () => {
    const { data } = await supabase.from('ai_usage_daily').select();
    expectTypeOf(data).toEqualTypeOf<Tables<'ai_usage_daily'>[] | null>();
    type Row = NonNullable<typeof data>[number];
    expectTypeOf<Row['user_id']>().toEqualTypeOf<string>();
    expectTypeOf<Row['date']>().toEqualTypeOf<string>();
    expectTypeOf<Row['agent_mode']>().toEqualTypeOf<'understand' | 'debug' | 'implement'>();
    expectTypeOf<Row['total_tokens']>().toEqualTypeOf<number>();
    // numeric arrives as a JSON number; timestamptz as an ISO string.
    expectTypeOf<Row['cost_usd']>().toEqualTypeOf<number>();
    expectTypeOf<Row['updated_at']>().toEqualTypeOf<string>();
    expectTypeOf<Row>().not.toHaveProperty('userId');
  });

  test('a column list narrows the row', async () => {
    const { data } = await supabase.from('ai_usage_daily').select('provider, model, total_tokens');
    expectTypeOf(data).toEqualTypeOf<{ provider: string; model: string; total_tokens: number }[] | null>();
  });

  test('embedded selects follow the foreign keys', async () => {
    const { data } = await supabase.from('agent_sessions').select('id, agent_messages(seq, content)');
    expectTypeOf(data).toEqualTypeOf<{ id: string; agent_messages: { seq: number; content: string }[] }[] | null>();
    const { data: messages } = await supabase.from('agent_messages').select('seq, agent_sessions(title)');
    expectTypeOf(messages).toEqualTypeOf<{ seq: number; agent_sessions: { title: string | null } }[] | null>();
  });

  test('a NOT NULL json column may read JSON null but is never written null', () => {
    expectTypeOf<Tables<'agent_sessions'>['client_metadata']>().toEqualTypeOf<Json>();
    expectTypeOf<TablesInsert<'agent_sessions'>['client_metadata']>().toEqualTypeOf<NonNullable<Json> | undefined>();
    expectTypeOf<TablesInsert<'agent_messages'>['parts']>().toEqualTypeOf<Json | undefined>();
  });

  test('nullable columns stay nullable', () => {
    expectTypeOf<Tables<'ai_usage_events'>['cost_usd']>().toEqualTypeOf<number | null>();
    expectTypeOf<Tables<'ai_usage_events'>['session_id']>().toEqualTypeOf<string | null>();
    expectTypeOf<Tables<'agent_messages'>['parts']>().toEqualTypeOf<Json | null>();
  });

  test('inserts: defaults are optional, generated columns absent, required ones required', () => {
    type Insert = TablesInsert<'agent_sessions'>;
    expectTypeOf<Insert['user_id']>().toEqualTypeOf<string>();
    expectTypeOf<Insert>().toHaveProperty('id');
    expectTypeOf<Pick<Insert, 'user_id' | 'agent_mode'>>().toEqualTypeOf<{
      user_id: string;
      agent_mode: 'understand' | 'debug' | 'implement';
    }>();
    expectTypeOf<{}>().not.toMatchTypeOf<Insert>();
    expectTypeOf<TablesInsert<'ai_usage_events'>>().not.toHaveProperty('total_tokens');
    expectTypeOf<TablesInsert<'ai_usage_daily'>['cost_usd']>().toEqualTypeOf<number | string | undefined>();
  });

  test('unknown tables and columns do not compile', () => {
    // @ts-expect-error: no such table
    supabase.from('no_such_table');
    // @ts-expect-error: auth.users is never part of the public schema
    supabase.from('auth.users');
    supabase.from('ai_usage_daily').select().eq('provider', 'openai');
    // @ts-expect-error: columns are snake_case on the wire
    supabase.from('ai_usage_daily').select().eq('totalTokens', 1);
  });
});

describe('quota notifications (the README example)', () => {
  type QuotaNotification = Pick<
    Tables<'quota_notifications'>,
    'id' | 'kind' | 'quota_limit' | 'threshold_percent' | 'period_start' | 'used' | 'limit_value' | 'created_at' | 'read_at'
  >;
  const columns = 'id, kind, quota_limit, threshold_percent, period_start, used, limit_value, created_at, read_at';

  test('a Realtime subscription to inserts gets the typed row', () => {
    supabase
      .channel('quota-alerts')
      .on<QuotaNotification>(
        'postgres_changes',
        { event: 'INSERT', schema: 'public', table: 'quota_notifications', filter: 'user_id=eq.u' },
        ({ new: n }) => {
          expectTypeOf(n.threshold_percent).toEqualTypeOf<number>();
          expectTypeOf(n.quota_limit).toEqualTypeOf<'monthly_tokens' | 'monthly_cost_usd' | 'daily_requests'>();
          expectTypeOf(n.kind).toEqualTypeOf<'threshold_reached' | 'limit_refused'>();
        },
      )
      .subscribe();
  });

  test('reading the unread ones and marking them read', async () => {
    const { data } = await supabase.from('quota_notifications').select(columns).is('read_at', null).order('id');
    expectTypeOf(data).toEqualTypeOf<QuotaNotification[] | null>();
    await supabase.from('quota_notifications').update({ read_at: new Date().toISOString() }).in('id', [1, 2]);
  });
});

describe('views and enums', () => {
  test('the monthly view and the users view are readable', async () => {
    const { data } = await supabase.from('ai_usage_monthly').select('month, cost_usd');
    expectTypeOf(data).toEqualTypeOf<{ month: string; cost_usd: number }[] | null>();
    expectTypeOf<Views<'users'>>().toHaveProperty('email');
  });

  test('enums are the SQL enums, snake_case named', () => {
    expectTypeOf<Enums<'agent_mode'>>().toEqualTypeOf<'understand' | 'debug' | 'implement'>();
    expectTypeOf<Enums<'reservation_status'>>().toEqualTypeOf<'active' | 'settled' | 'released' | 'expired'>();
  });
});

describe('rpc', () => {
  test('enum arguments and results are their values', async () => {
    type Fns = Database['public']['Functions'];
    expectTypeOf<Fns['record_usage']['Args']['p_agent_mode']>().toEqualTypeOf<'understand' | 'debug' | 'implement'>();
    expectTypeOf<Fns['record_usage']['Args']['p_status']>().toEqualTypeOf<'success' | 'error' | 'cancelled' | undefined>();
    expectTypeOf<Fns['get_monthly_usage']['Returns'][number]['agent_mode']>().toEqualTypeOf<
      'understand' | 'debug' | 'implement'
    >();
    expectTypeOf<Fns['record_usage']['Returns'][number]['cost_source']>().toEqualTypeOf<
      'given' | 'price_table' | 'free_local' | 'unpriced'
    >();

    const { data } = await supabase.rpc('get_monthly_usage', { p_month: '2025-01-01' });
    expectTypeOf<NonNullable<typeof data>[number]['agent_mode']>().toEqualTypeOf<Enums<'agent_mode'>>();
    supabase.rpc('record_usage', {
      p_user_id: '00000000-0000-0000-0000-000000000000',
      p_idempotency_key: 'k',
      p_provider: 'openai',
      p_model: 'gpt-4.1',
      p_agent_mode: 'debug',
    });
    supabase.rpc('record_usage', {
      p_user_id: '00000000-0000-0000-0000-000000000000',
      p_idempotency_key: 'k',
      p_provider: 'openai',
      p_model: 'gpt-4.1',
      // @ts-expect-error: not an agent mode
      p_agent_mode: 'refactor',
    });
  });

  test('a function without arguments takes none', () => {
    expectTypeOf<Database['public']['Functions']['expire_quota_reservations']['Args']>().toEqualTypeOf<
      Record<PropertyKey, never>
    >();
    supabase.rpc('expire_quota_reservations');
    // @ts-expect-error: it has no arguments
    supabase.rpc('expire_quota_reservations', { p_older_than: '1 day' });
  });

  test('functions not declared in the map do not compile', () => {
    // @ts-expect-error: not a function of the public schema
    supabase.rpc('no_such_function');
  });

  test('a function spec becomes Args and Returns the way supabase-js reads them', () => {
    type Fns = FunctionsOf<{
      get_status: {
        args: { p_user_id: 'uuid'; p_at: 'timestamp with time zone' };
        optional: ['p_at'];
        returns: 'jsonb';
        executableBy: ['authenticated'];
      };
      reserve: { args: { p_tokens: 'bigint'; p_tags: 'text[]' }; returns: 'uuid'; executableBy: [] };
      by_mode: {
        args: { p_mode: 'agent_mode'; p_modes: 'public.agent_mode[]'; p_where: 'point' };
        returns: 'SETOF session_status';
        executableBy: [];
      };
      history: { args: {}; returns: 'TABLE(month date, total_tokens bigint, cost_usd numeric)'; executableBy: [] };
    }>;
    expectTypeOf<Fns['get_status']['Args']>().toEqualTypeOf<{ p_user_id: string; p_at?: string }>();
    expectTypeOf<Fns['get_status']['Returns']>().toEqualTypeOf<Json>();
    expectTypeOf<Fns['reserve']['Args']>().toEqualTypeOf<{ p_tokens: number; p_tags: string[] }>();
    // Enums by SQL name, qualified or not, also in arrays; a type it does not know is unknown.
    expectTypeOf<Fns['by_mode']['Args']>().toEqualTypeOf<{
      p_mode: Enums<'agent_mode'>;
      p_modes: Enums<'agent_mode'>[];
      p_where: unknown;
    }>();
    expectTypeOf<Fns['by_mode']['Returns']>().toEqualTypeOf<Enums<'session_status'>[]>();
    expectTypeOf<Fns['history']['Args']>().toEqualTypeOf<Record<PropertyKey, never>>();
    expectTypeOf<Fns['history']['Returns']>().toEqualTypeOf<
      { month: string; total_tokens: number; cost_usd: number }[]
    >();

    // And supabase-js types rpc calls from such a map.
    type WithFns = Omit<Database, 'public'> & { public: Omit<Database['public'], 'Functions'> & { Functions: Fns } };
    const client = createClient<WithFns>('http://localhost:54321', 'anon-key');
    const call = client.rpc('history');
    expectTypeOf<Awaited<typeof call>['data']>().toEqualTypeOf<
      { month: string; total_tokens: number; cost_usd: number }[] | null
    >();
    client.rpc('get_status', { p_user_id: '00000000-0000-0000-0000-000000000000' });
    // @ts-expect-error: p_user_id must be a string
    client.rpc('get_status', { p_user_id: 1 });
    // @ts-expect-error: p_user_id is required
    client.rpc('get_status', {});
  });
});

describe('callFunction', () => {
  const db = null as unknown as DbOrTx;

  test('arguments are named and typed from the spec; those with a default may be left out', () => {
    type Args = RpcArgs<'record_usage'>;
    expectTypeOf<Args['p_agent_mode']>().toEqualTypeOf<'understand' | 'debug' | 'implement'>();
    expectTypeOf<Args['p_cost_usd']>().toEqualTypeOf<string | undefined>();
    expectTypeOf<Args['p_occurred_at']>().toEqualTypeOf<Date | undefined>();
    expectTypeOf<Args['p_input_tokens']>().toEqualTypeOf<number | undefined>();
    expectTypeOf<RpcArgs<'reserve_quota'>>().toEqualTypeOf<{
      p_user_id: string;
      p_idempotency_key: string;
      p_estimated_tokens: number;
      p_estimated_cost_usd?: string;
      p_ttl?: string;
      p_organisation_id?: string;
      p_provider?: string;
      p_model?: string;
    }>();
    callFunction(db, 'get_monthly_usage');
    callFunction(db, 'expire_quota_reservations');
    // @ts-expect-error: release_quota has required arguments
    callFunction(db, 'release_quota');
    // @ts-expect-error: numeric is passed as an exact decimal string
    callFunction(db, 'reserve_quota', { p_user_id: 'u', p_idempotency_key: 'k', p_estimated_tokens: 1, p_estimated_cost_usd: 0.5 });
  });

  test('results are decoded values; a column is nullable only where rpcNullableColumns says so', () => {
    expectTypeOf<RpcResult<'reserve_quota'>>().toEqualTypeOf<
      {
        granted: boolean;
        reason: string;
        reservation_id: string | null;
        expires_at: Date | null;
        tokens_remaining: number;
        cost_remaining_usd: string;
        requests_remaining: number;
        retry_after_ms: number | null;
      }[]
    >();
    expectTypeOf<RpcResult<'get_quota_status'>[number]['period_start']>().toEqualTypeOf<Date>();
    expectTypeOf<RpcResult<'session_latency'>[number]['p95_ms']>().toEqualTypeOf<number | null>();
    expectTypeOf<RpcResult<'release_quota'>>().toEqualTypeOf<boolean>();
    expectTypeOf<RpcResult<'purge_usage_events'>>().toEqualTypeOf<number>();
    expectTypeOf(callFunction(db, 'expire_quota_reservations')).resolves.toEqualTypeOf<number>();
  });

  test('the Database type takes the same nullability for supabase-js', () => {
    type Fns = Database['public']['Functions'];
    expectTypeOf<Fns['session_latency']['Returns'][number]['avg_ms']>().toEqualTypeOf<number | null>();
    expectTypeOf<Fns['reserve_quota']['Returns'][number]['expires_at']>().toEqualTypeOf<string | null>();
    expectTypeOf<Fns['reserve_quota']['Returns'][number]['granted']>().toEqualTypeOf<boolean>();
  });
});
