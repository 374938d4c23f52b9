// Which database the tests run against, decided once per run:
//   TEST_TARGET=pglite            embedded PGlite (one in-memory database per file)
//   TEST_DATABASE_URL=postgres:// a server you give (a fresh database per file)
//   neither                       a testcontainers PostgreSQL when Docker works, else PGlite
export type TargetKind = 'server' | 'pglite';

export interface TargetInfo {
  kind: TargetKind;
  /** Admin connection string of the server (creates and drops the per-file databases). */
  adminUrl?: string;
  /** The database every file copies: migrated once per run. */
  templateDatabase?: string;
  /** Why this target was chosen, printed once. */
  reason: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    target: TargetInfo;
  }
}
