// The migration safety check on sample migrations in a temporary folder: it
// refuses each destructive or rewriting statement after the baseline, accepts
// it when acknowledged with a reason, and leaves the baseline alone.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { migrationsFolder } from '../src/migrate.js';
import { checkMigrations, checkMigrationSql, readSafetyConfig } from '../src/tools/migrationSafety.js';

const folders: string[] = [];
afterEach(() => {
  for (const f of folders.splice(0)) rmSync(f, { recursive: true, force: true });
});

/** A migrations folder with a journal, the given files in order, and a baseline. */
function sampleFolder(migrations: [tag: string, sql: string][], baseline: string): string {
  const folder = mkdtempSync(join(tmpdir(), 'migration-safety-'));
  folders.push(folder);
  mkdirSync(join(folder, 'meta'));
  const entries = migrations.map(([tag], idx) => ({ idx, version: '7', when: 1_700_000_000_000 + idx, tag, breakpoints: true }));
  writeFileSync(join(folder, 'meta', '_journal.json'), JSON.stringify({ version: '7', dialect: 'postgresql', entries }));
  for (const [tag, sql] of migrations) writeFileSync(join(folder, `${tag}.sql`), sql);
  writeFileSync(join(folder, 'migration-safety.json'), JSON.stringify({ baseline }));
  return folder;
}

const refused: [rule: string, sql: string][] = [
  ['drop-table', 'DROP TABLE "public"."old_things";'],
  ['drop-table', 'drop table if exists a, b cascade;'],
  ['drop-column', 'ALTER TABLE "profiles" DROP COLUMN "nickname";'],
  ['alter-column-type', 'ALTER TABLE "profiles" ALTER COLUMN "display_name" SET DATA TYPE varchar(50);'],
  ['alter-column-type', 'alter table profiles alter column display_name type text using display_name::text;'],
  ['add-not-null-column', 'ALTER TABLE "profiles" ADD COLUMN "locale" text NOT NULL;'],
  ['rename-column', 'ALTER TABLE "profiles" RENAME COLUMN "display_name" TO "name";'],
  ['rename-table', 'ALTER TABLE "profiles" RENAME TO "people";'],
];

const accepted = [
  'ALTER TABLE "profiles" ADD COLUMN "locale" text NOT NULL DEFAULT \'en\';',
  'ALTER TABLE "profiles" ADD COLUMN "locale" text;',
  'ALTER TABLE "t" ADD COLUMN "id2" bigint NOT NULL GENERATED ALWAYS AS IDENTITY;',
  'CREATE TABLE "new_things" ("id" uuid PRIMARY KEY, "name" text NOT NULL);',
  'DROP INDEX "some_idx";',
  'DROP POLICY "p" ON "profiles";',
  'DROP FUNCTION public.f(integer);',
  'ALTER TABLE "profiles" ALTER COLUMN "locale" SET DEFAULT \'en\';',
  "-- DROP TABLE profiles; (only a comment)\nselect 'ALTER TABLE profiles DROP COLUMN email';",
];

describe('one migration', () => {
  test.each(refused)('refuses %s: %s', async (rule, sql) => {
    const findings = await checkMigrationSql('0100_change.sql', `-- a change\n${sql}`);
    expect(findings.map((f) => f.rule)).toContain(rule);
    expect(findings[0]!.line).toBe(2);
    expect(findings[0]!.message).toContain(`-- migration-safety: allow ${rule} <why>`);
  });

  test.each(refused)('accepts %s when acknowledged with a reason: %s', async (rule, sql) => {
    const text = `-- migration-safety: allow ${rule} superseded by the new design, data copied in 0099\n${sql}`;
    expect(await checkMigrationSql('0100_change.sql', text)).toEqual([]);
  });

  test('an acknowledgement without a reason, or for another rule, does not count', async () => {
    const sql = 'ALTER TABLE "profiles" DROP COLUMN "nickname";';
    expect(await checkMigrationSql('x.sql', `-- migration-safety: allow drop-column\n${sql}`)).toHaveLength(1);
    expect(await checkMigrationSql('x.sql', `-- migration-safety: allow drop-table old\n${sql}`)).toHaveLength(1);
  });

  test.each(accepted)('accepts a safe statement: %s', async (sql) => {
    expect(await checkMigrationSql('0100_change.sql', sql)).toEqual([]);
  });

  test('names each statement of a multi-statement migration with its line', async () => {
    const text = [
      'CREATE TABLE "a" ("id" integer);',
      '--> statement-breakpoint',
      'ALTER TABLE "b" DROP COLUMN "c";',
      '--> statement-breakpoint',
      'ALTER TABLE "b" ALTER COLUMN "d" SET DATA TYPE bigint;',
    ].join('\n');
    const findings = await checkMigrationSql('0100_x.sql', text);
    expect(findings.map((f) => [f.rule, f.line, f.target])).toEqual([
      ['drop-column', 3, 'b.c'],
      ['alter-column-type', 5, 'b.d'],
    ]);
  });

  test('SQL that does not parse is an error, not a pass', async () => {
    await expect(checkMigrationSql('0100_x.sql', 'ALTER TABLE DROP;')).rejects.toThrow(/0100_x\.sql: not valid PostgreSQL/);
  });
});

describe('a migrations folder', () => {
  test('checks only the migrations after the baseline', async () => {
    const folder = sampleFolder(
      [
        ['0000_old', 'DROP TABLE "legacy";'],
        ['0001_new', 'ALTER TABLE "profiles" DROP COLUMN "nickname";'],
        ['0002_newer', 'CREATE INDEX "i" ON "profiles" ("email");'],
      ],
      '0000_old',
    );
    const { checked, findings } = await checkMigrations(folder);
    expect(checked).toEqual(['0001_new', '0002_newer']);
    expect(findings.map((f) => `${f.file}:${f.rule}`)).toEqual(['0001_new.sql:drop-column']);
  });

  test('an unknown baseline is an error', async () => {
    const folder = sampleFolder([['0000_old', 'select 1;']], '0042_gone');
    await expect(checkMigrations(folder)).rejects.toThrow(/baseline "0042_gone" is not in the journal/);
  });

  test("the project's own migrations pass, and the baseline is one of them", async () => {
    const config = readSafetyConfig(migrationsFolder);
    const { findings } = await checkMigrations(migrationsFolder, config);
    expect(findings).toEqual([]);
  });
});
