// The schema barrel: every table, view and enum of the public schema.
// auth.users is imported where a foreign key needs it, never exported here
// (drizzle-kit would try to create it).
export * from './enums.js';
export * from './profiles.js';
export * from './agentSessions.js';
export * from './quotas.js';
export * from './aiUsage.js';
export * from './notifications.js';
export * from './organisations.js';
export * from './relations.js';
