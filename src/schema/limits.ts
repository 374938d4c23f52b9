// Every bound on what callers may store, and the message that names it,
// defined once. The table CHECKs (src/schema), the zod input schemas
// (src/validation) and the SQL functions (src/sql, through {{limits.x}} and
// {{messages.x}} placeholders that `npm run db:generate` fills in) all take
// them from here, so a limit cannot say one thing in TypeScript and another in
// the database.

export const limits = {
  /** Tokens of one kind in one request; more is a bug upstream. */
  tokensPerRequest: 100_000_000,
  /** Characters of an idempotency key (usage events and reservations). */
  idempotencyKeyLength: 200,
  /** Characters of a provider id such as "openai". */
  providerIdLength: 64,
  /** Characters of a model name. */
  modelLength: 200,
  /** Characters of a provider's error code. */
  errorCodeLength: 200,
  /** Characters of a session title. */
  sessionTitleLength: 500,
  /** Characters of a message's content. */
  messageContentLength: 1_000_000,
  /** Characters of a profile's display name (sign-up names are cut to it). */
  displayNameLength: 200,
  /** Characters of a profile's avatar URL. */
  avatarUrlLength: 2_048,
  /** How long a quota reservation may hold, in seconds. */
  reservationTtlMinSeconds: 1,
  reservationTtlMaxSeconds: 86_400,
  /** Raw usage events deleted per call of purge_usage_events. */
  purgeBatchMax: 100_000,
} as const;

/** What a refusal says after "field: ". */
export const messages = {
  tokens: `must be between 0 and ${limits.tokensPerRequest}`,
  idempotencyKey: `must be 1 to ${limits.idempotencyKeyLength} characters`,
  model: `must be 1 to ${limits.modelLength} characters`,
  errorCode: `must be at most ${limits.errorCodeLength} characters`,
  sessionTitle: `must be at most ${limits.sessionTitleLength} characters`,
  modelAtMost: `must be at most ${limits.modelLength} characters`,
  providerId: `must be a provider id such as "openai" (at most ${limits.providerIdLength} characters)`,
  displayName: `must be at most ${limits.displayNameLength} characters`,
  avatarUrl: `must be at most ${limits.avatarUrlLength} characters`,
  messageContent: `must be at most ${limits.messageContentLength} characters`,
  notNegative: 'must not be negative',
  reservationTtl: 'must be between 1 second and 1 day',
  purgeBatch: `must be between 1 and ${limits.purgeBatchMax}`,
} as const;

/** What `{{...}}` placeholders in src/sql may name. */
export const sqlConstants = { limits, messages } as const;
