// Every bound on what callers may store, and the message that names it,
// defined once. The table CHECKs (src/schema), the zod input schemas
// (src/validation) and the SQL functions (src/sql, through {{limits.x}} and
// {{messages.x}} placeholders that `npm run db:generate` fills in) all take
// them from here, so a limit cannot say one thing in TypeScript and another in
// the database.
//
// The numeric bounds are chosen so that no sum the database keeps can
// overflow (README, "Bounds that keep every total exact"):
// - a request reports at most 5 x tokensPerRequest tokens and costs at most
//   costPerRequestUsd;
// - a daily total row (user, day, provider, model, mode, bucket) and a
//   session take at most requestsPerTotalRow requests, so their bigint token
//   and latency sums stay below 2^63 with room for a month of 8 buckets x 31
//   days in the monthly view; their money sums are unbounded numeric;
// - quota limits are bounded, and the quota status computes in numeric.

export const limits = {
  /** Tokens of one kind in one request; more is a bug upstream. */
  tokensPerRequest: 100_000_000,
  /** What one request may cost, in USD, given or computed (estimates included). */
  costPerRequestUsd: 100_000,
  /** A price, in USD per million tokens. */
  pricePerMtokUsd: 10_000,
  /** A price of a billable extra (a web search, a tool call), in USD per thousand. */
  pricePerThousandUsd: 10_000,
  /** Billable extras of one kind (web searches, tool calls) in one request. */
  extrasPerRequest: 100_000,
  /** Characters of where a price row came from (a catalog version, an importer, a URL). */
  priceSourceLength: 300,
  /** Latency of one request or message, in milliseconds (a day). */
  latencyMs: 86_400_000,
  /** Requests one daily total row or one session may take. */
  requestsPerTotalRow: 50_000_000,
  /** Quota limits: monthly tokens, monthly cost in USD, requests a day. */
  monthlyTokenLimit: 1_000_000_000_000_000,
  monthlyCostLimitUsd: 1_000_000_000,
  dailyRequestLimit: 1_000_000_000,
  /** The most a whole-number figure reports: 2^53 - 1, exact in JSON and JavaScript. */
  reportedCountMax: Number.MAX_SAFE_INTEGER,
  /** Characters of an idempotency key (usage events and reservations). */
  idempotencyKeyLength: 200,
  /**
   * Days a recorded idempotency key stays a duplicate: purge_usage_events
   * never removes an event recorded more recently, whatever its occurred_at.
   */
  idempotencyWindowDays: 30,
  /**
   * How far in the past a request's occurred_at may lie, in days, unless the
   * database says otherwise (setting witchcraft.usage_backdating_days, at most
   * the idempotency window).
   */
  usageBackdatingDays: 7,
  /** How far in the future occurred_at may lie (clock skew), in seconds. */
  clockSkewSeconds: 300,
  /**
   * The shortest retention of raw events, in days: the idempotency window
   * plus the longest backdating (also the window), so that a month is dropped
   * only when every event in it was recorded more than a window ago.
   */
  usageRetentionMinDays: 60,
  /** Months of ai_usage_events partitions run_maintenance keeps ready ahead of the current one. */
  usagePartitionsAhead: 2,
  /** Rows each purge of one run_maintenance call removes at most (the rest go in later runs). */
  maintenanceBatch: 10_000,
  /** run_maintenance's defaults (database settings witchcraft.* override them). */
  sessionIdleMinutesDefault: 60,
  reservationRetentionDaysDefault: 30,
  notificationRetentionDaysDefault: 30,
  /** Characters of a provider id such as "openai". */
  providerIdLength: 64,
  /** Characters of a model name. */
  modelLength: 200,
  /** Characters of a provider's error code. */
  errorCodeLength: 200,
  /** Characters of a session title. */
  sessionTitleLength: 500,
  /** Characters of a message's content (tiers may allow less). */
  messageContentLength: 1_000_000,
  /** Upper bounds of the per-tier limits on what signed-in users write. */
  tierActiveSessionsMax: 10_000,
  tierSessionsPerDayMax: 1_000_000,
  tierMessagesPerSessionMax: 1_000_000,
  tierPartsBytesMax: 16_777_216,
  tierMetadataBytesMax: 1_048_576,
  tierToolCallsPerMessageMax: 10_000,
  /** Characters of a profile's display name (sign-up names are cut to it). */
  displayNameLength: 200,
  /** Characters of a profile's avatar URL. */
  avatarUrlLength: 2_048,
  /** Characters of a correction's reason. */
  adjustmentReasonLength: 500,
  /** How long a quota reservation may hold, in seconds. */
  reservationTtlMinSeconds: 1,
  reservationTtlMaxSeconds: 86_400,
  /** Raw usage events deleted per call of purge_usage_events. */
  purgeBatchMax: 100_000,
  /** Alert thresholds of a tier: at most this many percentages, each 1-100. */
  alertPercentsMax: 10,
  /** Quota notifications one claim_notifications call hands out. */
  notificationClaimBatchMax: 1_000,
  /** How long a claim holds before the row may be claimed again, in seconds (before backoff). */
  notificationVisibilityMinSeconds: 1,
  notificationVisibilityMaxSeconds: 3_600,
  /** Deliveries tried before a notification is given up. */
  notificationMaxAttempts: 10,
  /** The longest a backed-off claim holds, in seconds. */
  notificationBackoffMaxSeconds: 86_400,
  /** Characters of a delivery error kept on the row. */
  notificationErrorLength: 2_000,
  /** The youngest delivered notifications purge_notifications removes, in days. */
  notificationPurgeMinDays: 1,
  /** Characters of an organisation's name. */
  organisationNameLength: 100,
  /** Characters of an invited email address. */
  emailLength: 320,
  /** How long an invitation may stay open, in seconds (a minute to 30 days). */
  invitationTtlMinSeconds: 60,
  invitationTtlMaxSeconds: 2_592_000,
  /** Open invitations of one organisation. */
  openInvitationsMax: 1_000,
  /** Per-minute rate limits: requests and tokens. */
  requestsPerMinuteMax: 10_000_000,
  tokensPerMinuteMax: 100_000_000_000,
  /** Model patterns of a tier's allow-list, and the characters of one. */
  allowedModelsMax: 200,
  modelPatternLength: 200,
  /** Characters of a grant's reason. */
  grantReasonLength: 500,
} as const;

/** What a refusal says after "field: ". */
export const messages = {
  tokens: `must be between 0 and ${limits.tokensPerRequest}`,
  tokenDelta: `must be between -${limits.tokensPerRequest} and ${limits.tokensPerRequest}`,
  cost: `must be a number of USD between 0 and ${limits.costPerRequestUsd}`,
  costDelta: `must be a number of USD between -${limits.costPerRequestUsd} and ${limits.costPerRequestUsd}`,
  computedCost: `the cost computed from the price table exceeds ${limits.costPerRequestUsd} USD: check the token counts and the price`,
  price: `must be a number of USD per million tokens between 0 and ${limits.pricePerMtokUsd}`,
  pricePerThousand: `must be a number of USD per thousand between 0 and ${limits.pricePerThousandUsd}`,
  extras: `must be between 0 and ${limits.extrasPerRequest}`,
  extrasDelta: `must be between -${limits.extrasPerRequest} and ${limits.extrasPerRequest}`,
  cacheWrite1h: 'must not be more than cache_write_tokens (the 1-hour writes are part of the cache writes)',
  latency: `must be between 0 and ${limits.latencyMs} ms`,
  idempotencyKey: `must be 1 to ${limits.idempotencyKeyLength} characters`,
  occurredAtFuture: `must not be more than ${limits.clockSkewSeconds} seconds in the future`,
  model: `must be 1 to ${limits.modelLength} characters`,
  errorCode: `must be at most ${limits.errorCodeLength} characters`,
  sessionTitle: `must be at most ${limits.sessionTitleLength} characters`,
  modelAtMost: `must be at most ${limits.modelLength} characters`,
  providerId: `must be a provider id such as "openai" (at most ${limits.providerIdLength} characters)`,
  messageContent: `must be at most ${limits.messageContentLength} characters`,
  displayName: `must be at most ${limits.displayNameLength} characters`,
  avatarUrl: `must be an http(s) URL of at most ${limits.avatarUrlLength} characters`,
  adjustmentReason: `must be 1 to ${limits.adjustmentReasonLength} characters`,
  notNegative: 'must not be negative',
  reservationTtl: 'must be between 1 second and 1 day',
  purgeBatch: `must be between 1 and ${limits.purgeBatchMax}`,
  purgeAge: `must be at least ${limits.idempotencyWindowDays} days (the idempotency window)`,
  claimBatch: `must be between 1 and ${limits.notificationClaimBatchMax}`,
  visibility: `must be between ${limits.notificationVisibilityMinSeconds} second and ${limits.notificationVisibilityMaxSeconds} seconds`,
  notificationPurgeAge: `must be at least ${limits.notificationPurgeMinDays} day`,
  organisationName: `must be 1 to ${limits.organisationNameLength} characters`,
  email: `must be an email address of at most ${limits.emailLength} characters`,
  invitationTtl: 'must be between 1 minute and 30 days',
  memberCap: `must be empty or between 0 and the organisation's limit`,
  grantReason: `must be 1 to ${limits.grantReasonLength} characters`,
  requestsPerTotalRow: `more than ${limits.requestsPerTotalRow} requests in one total: record them under another model or day`,
} as const;

/** What `{{...}}` placeholders in src/sql may name. */
export const sqlConstants = { limits, messages } as const;
