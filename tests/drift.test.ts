// The sources (TypeScript schema and policies, SQL sources in src/sql) and
// drizzle/ must agree: `npm run db:generate` on a copy of the checkout writes
// nothing, neither a table migration nor an SQL-sources migration nor a
// checksum.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');

/** Every file under `dir` with the hash of its content. */
function contents(dir: string, prefix = ''): Record<string, string> {
  const out: Record<string, string> = {};
  for (const entry of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const path = join(prefix, entry.name);
    if (entry.isDirectory()) Object.assign(out, contents(dir, path));
    else out[path] = createHash('sha256').update(readFileSync(join(dir, path))).digest('hex');
  }
  return out;
}

function copyOfCheckout(): string {
  const dir = mkdtempSync(join(tmpdir(), 'witchcraft-drift-'));
  for (const entry of ['package.json', 'tsconfig.json', 'drizzle.config.ts', 'src', 'drizzle', 'scripts']) {
    cpSync(join(root, entry), join(dir, entry), { recursive: true });
  }
  symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

function generate(dir: string): string {
  return execFileSync('npm', ['run', '-s', 'db:generate'], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, DATABASE_URL: '' },
  });
}

describe('sources and drizzle/ agree', () => {
  it('npm run db:generate on a copy of the checkout writes nothing', () => {
    const dir = copyOfCheckout();
    try {
      const before = contents(join(dir, 'drizzle'));
      const output = generate(dir);
      expect(output).toMatch(/No schema changes/i);
      expect(output).toMatch(/SQL sources: no changes/);
      expect(contents(join(dir, 'drizzle'))).toEqual(before);
    } finally {
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a changed SQL source becomes one new migration holding that source in full, and only it', () => {
    const dir = copyOfCheckout();
    try {
      const source = join(dir, 'src', 'sql', 'quotas', 'release_quota.sql');
      writeFileSync(source, readFileSync(source, 'utf8').replace("if found then return true; end if;", "if found then\n    return true;\n  end if;"));
      // A reworded comment outside the function asks for no migration.
      const grants = join(dir, 'src', 'sql', 'quotas', 'grants.sql');
      writeFileSync(grants, readFileSync(grants, 'utf8').replace('-- Quotas through the API', '-- Quotas, through the API'));
      const before = new Set(readdirSync(join(dir, 'drizzle')));
      const output = generate(dir);
      const added = readdirSync(join(dir, 'drizzle')).filter((f) => !before.has(f));
      expect(added).toHaveLength(1);
      expect(added[0]).toMatch(/^\d{4}_sql_sources\.sql$/);
      const migration = readFileSync(join(dir, 'drizzle', added[0]!), 'utf8');
      expect(migration).toContain('-- src/sql/quotas/release_quota.sql');
      expect(migration).toContain('create or replace function public.release_quota');
      expect(migration).toContain('grant execute on function public.release_quota(uuid, uuid) to service_role');
      expect(migration).not.toContain('src/sql/quotas/grants.sql');
      expect(migration.split('--> statement-breakpoint').length).toBe(4);
      expect(output).toContain('1 changed source(s)');
      // The journal took it as drizzle-kit's own, and a second run writes nothing more.
      const journal = JSON.parse(readFileSync(join(dir, 'drizzle', 'meta', '_journal.json'), 'utf8')) as { entries: { tag: string }[] };
      expect(journal.entries.at(-1)!.tag).toBe(added[0]!.replace(/\.sql$/, ''));
      const after = contents(join(dir, 'drizzle'));
      generate(dir);
      expect(contents(join(dir, 'drizzle'))).toEqual(after);
    } finally {
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a function no source declares any more is dropped by the next migration', () => {
    const dir = copyOfCheckout();
    try {
      rmSync(join(dir, 'src', 'sql', 'agentSessions', 'session_latency.sql'));
      generate(dir);
      const journal = JSON.parse(readFileSync(join(dir, 'drizzle', 'meta', '_journal.json'), 'utf8')) as { entries: { tag: string }[] };
      const migration = readFileSync(join(dir, 'drizzle', `${journal.entries.at(-1)!.tag}.sql`), 'utf8');
      expect(migration).toContain('drop function if exists public.session_latency(uuid);');
    } finally {
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a view that a table migration recreates gets its grants again in the SQL-sources migration', () => {
    const dir = copyOfCheckout();
    try {
      // Change the monthly view's text: drizzle-kit drops and creates it, and the new view has no grants.
      const schemaFile = join(dir, 'src', 'schema', 'aiUsage.ts');
      writeFileSync(schemaFile, readFileSync(schemaFile, 'utf8').replace('sum(cost_usd)::numeric as cost_usd', 'sum(cost_usd)::numeric(38, 10) as cost_usd'));
      const before = new Set(readdirSync(join(dir, 'drizzle')));
      generate(dir);
      const added = readdirSync(join(dir, 'drizzle')).filter((f) => !before.has(f) && f.endsWith('.sql')).sort();
      expect(added).toHaveLength(2);
      expect(readFileSync(join(dir, 'drizzle', added[0]!), 'utf8')).toMatch(/CREATE VIEW "public"."ai_usage_monthly"/);
      const sources = readFileSync(join(dir, 'drizzle', added[1]!), 'utf8');
      expect(sources).toContain('-- src/sql/aiUsage/grants.sql');
      expect(sources).toContain('grant select on table public.ai_usage_monthly to authenticated, service_role;');
    } finally {
      if (existsSync(dir)) rmSync(dir, { recursive: true, force: true });
    }
  });
});
