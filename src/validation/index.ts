// Input schemas (drizzle-zod + zod) of every typed query, for callers that
// want to validate at their own edge with the same rules.
export * from './usage.js';
export * from './quotas.js';
export * from './sessions.js';
export * from './notifications.js';
export * from './organisations.js';
