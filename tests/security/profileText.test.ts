// Profile text is safe to render: a display name loses control characters and
// the bidirectional overrides that can disguise what surrounds it (an
// "Eve\u202Egpj.exe" shows as "Eveexe.jpg"), and an avatar must be an http(s)
// URL, never javascript: or data:. The rule holds for what users write
// through the API, for sign-up names (tests/security/signup.test.ts), and for
// rows a deployed database already had when it migrated.
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withClaims } from '../../src/auth/withClaims.js';
import { queryRows } from '../../src/db.js';
import { fromDatabaseError, pgErrorOf } from '../../src/errors.js';
import { signUpLocal } from '../../src/local/auth.js';
import { databaseMigratedTo, freshDatabase, type TestDatabase } from '../support/database.js';

let t: TestDatabase;
let eve: string;

beforeAll(async () => {
  t = await freshDatabase();
  eve = await signUpLocal(t.db, { email: 'eve@example.com' });
});
afterAll(() => t?.close());

const asEve = (statement: ReturnType<typeof sql>) =>
  withClaims(t.db, { role: 'authenticated', sub: eve }, (tx) => queryRows(tx, statement));

async function profile() {
  const [row] = await t.rows<{ display_name: string | null; avatar_url: string | null }>(
    sql`select display_name, avatar_url from profiles where id = ${eve}`);
  return row!;
}

describe('display names', () => {
  it.each([
    ['a right-to-left override', 'Eve\u202Egpj.exe', 'Evegpj.exe'],
    ['isolates and marks', '\u2066Eve\u2069 \u200Fadmin\u200E', 'Eve admin'],
    ['control characters and a terminal escape', 'Eve\u0007\u001b[31mred\u0000'.replace('\u0000', ''), 'Eve[31mred'],
    ['C1 controls and outer spaces', '  \u0085Eve\u009b  ', 'Eve'],
    ['nothing but controls', '\u202E\u0007', null],
    ['an ordinary name with accents and emoji', 'Ève Lumière 🌙', 'Ève Lumière 🌙'],
  ])('%s: stored clean', async (_name, written, stored) => {
    await asEve(sql`update profiles set display_name = ${written} where id = ${eve}`);
    expect((await profile()).display_name).toBe(stored);
  });
});

describe('avatar URLs', () => {
  it.each([
    'javascript:alert(document.cookie)',
    'JaVaScRiPt:alert(1)',
    'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==',
    'https://example.com/a b.png',
    ' https://example.com/a.png',
    'https://example.com/\u0000x'.replace('\u0000', '\u0007'),
    '//example.com/a.png',
    'ftp://example.com/a.png',
  ])('%s is refused, and nothing changes', async (url) => {
    const before = await profile();
    const error = await asEve(sql`update profiles set avatar_url = ${url} where id = ${eve}`).then(() => null, (e: unknown) => e);
    expect(pgErrorOf(error).code).toBe('22023');
    expect((fromDatabaseError(error) as Error).message).toBe('avatar_url: must be an http(s) URL of at most 2048 characters');
    expect(await profile()).toEqual(before);
  });

  it.each(['https://example.com/avatars/eve.png?size=64', 'HTTP://EXAMPLE.COM/A.PNG', null])('%s is kept', async (url) => {
    await asEve(sql`update profiles set avatar_url = ${url} where id = ${eve}`);
    expect((await profile()).avatar_url).toBe(url);
  });
});

describe('a deployed database migrates to clean profiles', () => {
  it('names written before the rule are cleaned and unsafe avatars dropped by the migration', async () => {
    const deployed = await databaseMigratedTo('0019_hardening_schema');
    try {
      const [{ id }] = (await deployed.query<{ id: string }>(`insert into auth.users (instance_id, id, aud, role, email)
        values ('00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated', 'authenticated', 'old@example.com')
        returning id`)) as [{ id: string }];
      await deployed.query(`update public.profiles set display_name = $1, avatar_url = $2 where id = $3`,
        ['Old\u202Eeman', 'javascript:alert(1)', id]);
      const [{ id: fine }] = (await deployed.query<{ id: string }>(`insert into auth.users (instance_id, id, aud, role, email)
        values ('00000000-0000-0000-0000-000000000000', gen_random_uuid(), 'authenticated', 'authenticated', 'fine@example.com')
        returning id`)) as [{ id: string }];
      await deployed.query(`update public.profiles set display_name = 'Fine', avatar_url = 'https://example.com/f.png' where id = $1`, [fine]);
      await deployed.migrateForward();
      const rows = await deployed.query<{ email: string; display_name: string | null; avatar_url: string | null }>(
        `select email, display_name, avatar_url from public.profiles order by email`);
      expect(rows).toEqual([
        { email: 'fine@example.com', display_name: 'Fine', avatar_url: 'https://example.com/f.png' },
        { email: 'old@example.com', display_name: 'Oldeman', avatar_url: null },
      ]);
    } finally {
      await deployed.close();
    }
  });
});
