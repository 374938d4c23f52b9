// Row-level security: every policy of the schema, one file per domain.
// drizzle-kit reads this barrel beside src/schema (drizzle.config.ts).
export * from './profiles.js';
export * from './aiUsage.js';
export * from './agentSessions.js';
export * from './quotas.js';
export * from './notifications.js';
export * from './organisations.js';
