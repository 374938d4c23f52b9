// The generated documentation is current: regenerated in memory from the
// schema and a freshly migrated database, it must equal what is committed.
// When this fails after a schema or migration change, run `npm run docs`.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Connection } from '../src/client.js';
import { erDiagramMarkdown, erDiagramMermaid, permissionsMarkdown, readmeWithDiagram, relationshipsSource } from '../src/tools/docs.js';
import { freshDatabase, type TestDatabase } from './support/database.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const committed = (path: string) => readFileSync(join(root, path), 'utf8');

let database: TestDatabase;
beforeAll(async () => {
  database = await freshDatabase();
});
afterAll(async () => {
  await database?.close();
});

describe('ER diagram', () => {
  test('docs/er-diagram.md matches the schema (run `npm run docs`)', () => {
    expect(committed('docs/er-diagram.md')).toBe(erDiagramMarkdown());
  });

  test('the README shows the current diagram', () => {
    const readme = committed('README.md');
    expect(readme).toContain('```mermaid\nerDiagram');
    expect(readmeWithDiagram(readme)).toBe(readme);
  });

  test('the diagram names SQL columns, keys and the foreign keys, auth.users included', () => {
    const diagram = erDiagramMermaid();
    expect(diagram).toMatch(/^ {2}ai_usage_daily \{$/m);
    expect(diagram).toMatch(/^ {4}uuid user_id PK, FK$/m);
    expect(diagram).toContain('auth_users ||--o| profiles : "id"');
    expect(diagram).toContain('profiles ||--o{ agent_sessions : "user_id"');
    expect(diagram).not.toMatch(/userId|totalTokens/);
  });
});

describe('permissions table', () => {
  test('docs/permissions.md matches the migrated database (run `npm run docs`)', async () => {
    const connection = { query: database.query } as Connection;
    const generated = await permissionsMarkdown(connection);
    expect(committed('docs/permissions.md')).toBe(generated);
    // service_role bypasses RLS; anon reads no profile row.
    expect(generated).toContain('## service_role (bypasses RLS)');
    expect(generated).toMatch(/## anon[\s\S]*\| `profiles` \| (no rows|—) \|/);
  });
});

describe('supabase-js relationships', () => {
  test('src/supabase/relationships.ts matches the foreign keys of the migrated database (run `npm run docs`)', async () => {
    const generated = await relationshipsSource({ query: database.query } as Connection);
    expect(committed('src/supabase/relationships.ts')).toBe(generated);
    expect(generated).toContain('foreignKeyName: "agent_messages_session_id_agent_sessions_id_fk";');
    // profiles.id references auth.users, outside the API: not a relationship supabase-js can embed.
    expect(generated).not.toContain('"users"');
  });
});
