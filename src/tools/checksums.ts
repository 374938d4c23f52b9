// Released migrations are never edited: a change is a new migration. Each
// migration's SHA-256 (and its journal time, which decides whether
// `drizzle-kit migrate` applies it) is recorded in
// drizzle/meta/_checksums.json when `npm run db:generate` first sees it, and
// tests/checksums.test.ts fails when a recorded migration no longer matches.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { journal, migrationsFolder } from '../migrate.js';

export interface MigrationChecksum {
  sha256: string;
  when: number;
}

export type Checksums = Record<string, MigrationChecksum>;

export const checksumsFile = (folder = migrationsFolder): string => join(folder, 'meta', '_checksums.json');

/** Each migration of the journal as it is on disk now. */
export function currentChecksums(folder = migrationsFolder): Checksums {
  return Object.fromEntries(
    journal(folder).map((entry) => [
      entry.tag,
      { sha256: createHash('sha256').update(readFileSync(join(folder, `${entry.tag}.sql`))).digest('hex'), when: entry.when },
    ]),
  );
}

export function recordedChecksums(folder = migrationsFolder): Checksums {
  const file = checksumsFile(folder);
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Checksums) : {};
}

/**
 * Records migrations that have no checksum yet and forgets those no longer in
 * the journal (a migration deleted before it was released). Never changes a
 * recorded checksum. Returns the tags it recorded.
 */
export function recordNewChecksums(folder = migrationsFolder): string[] {
  const recorded = recordedChecksums(folder);
  const current = currentChecksums(folder);
  const added = Object.keys(current).filter((tag) => !recorded[tag]);
  const next: Checksums = Object.fromEntries(Object.keys(current).map((tag) => [tag, recorded[tag] ?? current[tag]!]));
  const text = `${JSON.stringify(next, null, 2)}\n`;
  const file = checksumsFile(folder);
  if (!existsSync(file) || readFileSync(file, 'utf8') !== text) writeFileSync(file, text);
  return added;
}
