import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { connectUrl } from '../src/client.js';
import { applySupabaseEmulation, openPglite } from '../src/local/index.js';
import { journal, runMigrations } from '../src/migrate.js';
import { target } from './support/database.js';

const allTags = journal().map((e) => e.tag);

describe('migrations apply from an empty database', () => {
  it('journal times increase, so drizzle-kit migrate never skips one', () => {
    const times = journal().map((e) => e.when);
    expect(times).toEqual([...times].sort((a, b) => a - b));
    expect(new Set(times).size).toBe(times.length);
  });

  it('on the target database: every migration once, then nothing', async () => {
    const info = target();
    if (info.kind === 'pglite') {
      const connection = await openPglite();
      try {
        expect(await runMigrations(connection)).toEqual(allTags);
        expect(await runMigrations(connection)).toEqual([]);
      } finally {
        await connection.close();
      }
      return;
    }
    // A brand-new database on the server (not the template copy the other files use).
    const name = `witchcraft_empty_${process.pid}_${Date.now().toString(36)}`;
    const admin = postgres(info.adminUrl!, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database "${name}"`);
    const url = new URL(info.adminUrl!);
    url.pathname = `/${name}`;
    const connection = connectUrl(url.toString(), { max: 1 });
    try {
      await applySupabaseEmulation((text) => connection.query(text));
      expect(await runMigrations(connection)).toEqual(allTags);
      expect(await runMigrations(connection)).toEqual([]);
    } finally {
      await connection.close();
      await admin.unsafe(`drop database if exists "${name}" with (force)`);
      await admin.end();
    }
  });
});
