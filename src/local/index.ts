// '@witchcraft/db/local': what runs the database on a developer's machine and
// in tests, never in a deployed service. The embedded database (PGlite), a
// throwaway PostgreSQL in Docker, the choice between them and DATABASE_URL,
// the Supabase emulation those need, and sign-ups the way Supabase Auth makes
// them. Migrations are in '@witchcraft/db/migrate'.
export { openPglite } from './pglite.js';
export type { PgliteOptions } from './pglite.js';
export { startContainer } from './container.js';
export { connect, connectionLabel, defaultDataDir } from './connect.js';
export { signUpLocal } from './auth.js';
export type { SignUpInput } from './auth.js';
export { applySupabaseEmulation, supabaseEmulationStatements } from './supabaseEmulation.js';
