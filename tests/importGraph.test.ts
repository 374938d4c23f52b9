// The import-graph walker that guards the service entry (tests/package.test.ts)
// must be able to fail: here it runs on small trees written for the purpose.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { developmentOnly, forbiddenImports, importGraph, importsOf } from './support/importGraph.js';

const root = mkdtempSync(join(tmpdir(), 'witchcraft-import-graph-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let trees = 0;
/** Writes files (path → source) into a new folder and returns that folder. */
function tree(files: Record<string, string>): string {
  const dir = join(root, `t${++trees}`);
  for (const [path, source] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), source);
  }
  return dir;
}

describe('importsOf', () => {
  it('reads static imports, re-exports, side-effect imports, import() and require()', () => {
    const sites = importsOf(`
      import a from './a.js';
      import { b,
        c } from "./bc.js";
      import './side.js';
      export * from './all.js';
      export { d } from 'pkg/d';
      export const later = () => import('./lazy.js');
      const e = require('./cjs.js');
      const f = import(\`./template.js\`);
    `);
    expect(sites).toEqual([
      { specifier: './a.js', dynamic: false },
      { specifier: './bc.js', dynamic: false },
      { specifier: './side.js', dynamic: false },
      { specifier: './all.js', dynamic: false },
      { specifier: 'pkg/d', dynamic: false },
      { specifier: './lazy.js', dynamic: true },
      { specifier: './cjs.js', dynamic: false },
      { specifier: './template.js', dynamic: true },
    ]);
  });

  it('ignores imports in comments and strings, and plain exports', () => {
    const sites = importsOf(`
      // import fs from 'node:fs';
      /* export * from './x.js'; */
      const text = "import('@electric-sql/pglite')";
      export const x = 1;
      export { x as y };
    `);
    expect(sites).toEqual([]);
  });

  it('refuses an import() it cannot follow', () => {
    expect(() => importsOf(`const name = './x.js'; await import(name);`, 'computed.js')).toThrow(/computed\.js:1: import\(\) of a computed specifier/);
  });
});

describe('importGraph and forbiddenImports', () => {
  it('follows static, re-exported and dynamic relative imports, and names the chain to a forbidden one', () => {
    const dir = tree({
      'index.js': `import { a } from './a.js';\nexport * from './b.js';\n// import('./never.js')\n`,
      'a.js': `export const a = () => import('./lazy/c.js');`,
      'b.js': `export { sql } from 'drizzle-orm';`,
      'lazy/c.js': `import { readFileSync } from 'node:fs';\nexport const c = readFileSync;`,
    });
    const graph = importGraph(join(dir, 'index.js'));
    expect(graph.files.map((f) => f.slice(dir.length + 1))).toEqual(['index.js', 'a.js', 'b.js', 'lazy/c.js']);
    expect(forbiddenImports(graph, { specifiers: developmentOnly })).toEqual(['index.js -> a.js -> lazy/c.js -> node:fs']);
    // Not following import(), the file reading the disk is out of reach.
    expect(forbiddenImports(importGraph(join(dir, 'index.js'), { dynamic: false }), { specifiers: developmentOnly })).toEqual([]);
  });

  it.each([
    '@electric-sql/pglite',
    '@electric-sql/pglite/vector',
    'drizzle-orm/pglite',
    'drizzle-orm/pglite/migrator',
    '@testcontainers/postgresql',
    'testcontainers',
    'node:fs',
    'fs',
    'node:fs/promises',
    'fs/promises',
  ])('%s is caught, however it is imported', (name) => {
    for (const form of [`import x from '${name}';`, `export * from '${name}';`, `const m = () => import('${name}');`]) {
      const dir = tree({ 'index.js': `export * from './inner.js';`, 'inner.js': form });
      expect(forbiddenImports(importGraph(join(dir, 'index.js')), { specifiers: developmentOnly }), form).toEqual([
        `index.js -> inner.js -> ${name}`,
      ]);
    }
  });

  it('allows what is merely similar', () => {
    const dir = tree({
      'index.js': `import 'drizzle-orm/postgres-js'; import 'drizzle-orm/pg-core'; import 'node:path'; import 'fs-extra'; import 'postgres';`,
    });
    expect(forbiddenImports(importGraph(join(dir, 'index.js')), { specifiers: developmentOnly })).toEqual([]);
  });

  it('catches a file of a forbidden folder, reached statically or by import()', () => {
    const dir = tree({
      'index.js': `import './client.js';`,
      'client.js': `export const open = () => import('./local/pglite.js');`,
      'local/pglite.js': `export const x = 1;`,
    });
    expect(forbiddenImports(importGraph(join(dir, 'index.js')), { specifiers: [], folders: [join(dir, 'local')] })).toEqual([
      'index.js -> client.js -> local/pglite.js',
    ]);
  });

  it('fails on a relative import of a file that does not exist', () => {
    const dir = tree({ 'index.js': `import './gone.js';` });
    expect(() => importGraph(join(dir, 'index.js'))).toThrow(/imports \.\/gone\.js, which does not exist/);
  });

  it('visits each file once, cycles included', () => {
    const dir = tree({ 'index.js': `import './a.js';`, 'a.js': `import './index.js'; import './a.js';` });
    expect(importGraph(join(dir, 'index.js')).files).toHaveLength(2);
  });
});
