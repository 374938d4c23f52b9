// Released migrations are never edited: every migration of the journal has a
// checksum in drizzle/meta/_checksums.json (written by `npm run db:generate`
// when it first sees the migration), and the file on disk still matches it,
// as does its journal time.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { journal, migrationsFolder } from '../src/migrate.js';
import { currentChecksums, recordedChecksums } from '../src/tools/checksums.js';

describe('released migrations', () => {
  test('every migration of the journal is recorded, and none changed since', () => {
    const recorded = recordedChecksums();
    expect(Object.keys(recorded)).toEqual(journal().map((e) => e.tag));
    expect(currentChecksums()).toEqual(recorded);
  });

  test('an edited migration or a moved journal time is noticed', () => {
    const folder = mkdtempSync(join(tmpdir(), 'witchcraft-checksums-'));
    try {
      cpSync(migrationsFolder, folder, { recursive: true });
      const [first, second] = journal(folder);
      const file = join(folder, `${first!.tag}.sql`);
      writeFileSync(file, `${readFileSync(file, 'utf8')}\n-- an innocent-looking edit\n`);
      const journalFile = join(folder, 'meta', '_journal.json');
      const raw = JSON.parse(readFileSync(journalFile, 'utf8')) as { entries: { when: number }[] };
      raw.entries[1]!.when += 1;
      writeFileSync(journalFile, JSON.stringify(raw));
      const current = currentChecksums(folder);
      const recorded = recordedChecksums(folder);
      expect(current[first!.tag]!.sha256).not.toBe(recorded[first!.tag]!.sha256);
      expect(current[second!.tag]!.when).not.toBe(recorded[second!.tag]!.when);
      expect(current).not.toEqual(recorded);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
