// Type tests (vitest --typecheck): supabase-js typed by the Database type
// derived from the Drizzle schema. Nothing here talks to a server: the client
// is only built so its methods' types can be checked.
import { createClient } from '@supabase/supabase-js';
import { describe, expectTypeOf, test } from 'vitest';
import type { Database, Enums, Json, Tables, TablesInsert, Views } from '../src/supabase/database.js';
import type { FunctionsOf } from '../src/supabase/functions.js';

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
      history: { args: {}; returns: 'TABLE(month date, total_tokens bigint, cost_usd numeric)'; executableBy: [] };
    }>;
    expectTypeOf<Fns['get_status']['Args']>().toEqualTypeOf<{ p_user_id: string; p_at?: string }>();
    expectTypeOf<Fns['get_status']['Returns']>().toEqualTypeOf<Json>();
    expectTypeOf<Fns['reserve']['Args']>().toEqualTypeOf<{ p_tokens: number; p_tags: string[] }>();
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
