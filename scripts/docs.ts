// npm run docs: regenerates docs/er-diagram.md, docs/permissions.md and the
// diagram in README.md, and src/supabase/relationships.ts (the last two from
// an in-memory, migrated PGlite).
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openPglite } from '../src/local/index.js';
import { runMigrations } from '../src/migrate.js';
import { erDiagramMarkdown, permissionsMarkdown, readmeWithDiagram, relationshipsSource } from '../src/tools/docs.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
mkdirSync(join(root, 'docs'), { recursive: true });
writeFileSync(join(root, 'docs', 'er-diagram.md'), erDiagramMarkdown());

const connection = await openPglite();
try {
  await runMigrations(connection);
  writeFileSync(join(root, 'docs', 'permissions.md'), await permissionsMarkdown(connection));
  writeFileSync(join(root, 'src', 'supabase', 'relationships.ts'), await relationshipsSource(connection));
} finally {
  await connection.close();
}

const readmePath = join(root, 'README.md');
writeFileSync(readmePath, readmeWithDiagram(readFileSync(readmePath, 'utf8')));
console.log('docs: wrote docs/er-diagram.md, docs/permissions.md, src/supabase/relationships.ts and the diagram in README.md');
