import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');

describe('schema and drizzle/ agree', () => {
  it('drizzle-kit generate on a copy of the checkout finds nothing to do', () => {
    const dir = mkdtempSync(join(tmpdir(), 'witchcraft-drift-'));
    try {
      for (const entry of ['package.json', 'tsconfig.json', 'drizzle.config.ts', 'src', 'drizzle']) {
        cpSync(join(root, entry), join(dir, entry), { recursive: true });
      }
      symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
      const before = readdirSync(join(dir, 'drizzle')).sort();
      const output = execFileSync(join(root, 'node_modules', '.bin', 'drizzle-kit'), ['generate'], {
        cwd: dir,
        encoding: 'utf8',
        env: { ...process.env, DATABASE_URL: '' },
      });
      expect(output).toMatch(/No schema changes/i);
      expect(readdirSync(join(dir, 'drizzle')).sort()).toEqual(before);
    } finally {
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    }
  });
});
