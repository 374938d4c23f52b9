// The package's entry point: what a backend service imports from '@witchcraft/db'.
// Tables and views live in '@witchcraft/db/schema', policies in '@witchcraft/db/policies',
// migrations in '@witchcraft/db/migrate', and what only runs on a developer's
// machine or in tests (the embedded database, containers, the Supabase
// emulation, local sign-ups) in '@witchcraft/db/local'. Nothing imported here
// loads those: tests/package.test.ts walks the built import graph, and
// imports this entry under hooks that refuse them, to be sure.
export { connectUrl } from './client.js';
export type { Connection, UrlOptions } from './client.js';
export { queryRows, schema } from './db.js';
export type { Db, Tx, DbOrTx, Schema } from './db.js';
export { withClaims, asAnon, asService, apiRoles } from './auth/withClaims.js';
export type { ApiRole, JwtClaims } from './auth/withClaims.js';
export { asUser, verifyAccessToken, userClaims, AuthError } from './auth/asUser.js';
export type { AuthErrorCode, VerifyOptions } from './auth/asUser.js';
export { ValidationError, fromDatabaseError, parseInput, pgErrorOf } from './errors.js';
export type { PgError } from './errors.js';
export { recordUsage, recordAdjustment, getMonthlyUsage, purgeUsageEvents } from './queries/usage.js';
export { runMaintenance, type MaintenanceRun } from './queries/maintenance.js';
export type { RecordedUsage, RecordedAdjustment, MonthlyUsageRow } from './queries/usage.js';
export { getQuotaStatus, reserveQuota, releaseQuota, expireReservations } from './queries/quotas.js';
export type { QuotaStatus, Reservation, RefusalReason } from './queries/quotas.js';
export {
  createOrganisation,
  inviteMember,
  acceptInvitation,
  revokeInvitation,
  setMemberRole,
  setMemberCaps,
  setDefaultMemberCaps,
  removeMember,
  getOrganisationQuotaStatus,
  getGrantBalances,
  createGrant,
  voidGrant,
} from './queries/organisations.js';
export type { Invitation, OrganisationQuotaStatus, GrantBalance } from './queries/organisations.js';
export {
  startSession,
  appendMessage,
  endSession,
  touchSession,
  closeIdleSessions,
  listSessions,
  getSession,
  listActiveSessions,
  getUsageByMode,
} from './queries/sessions.js';
export type { SessionPage, SessionDetail, ActiveSession, ModeUsage } from './queries/sessions.js';
export {
  claimNotifications,
  ackNotification,
  failNotification,
  purgeNotifications,
  runNotificationWorker,
  notificationChannel,
} from './queries/notifications.js';
export type { ClaimedNotification, NotificationWorkerOptions, NotificationWorkerStats } from './queries/notifications.js';
export { priceCatalog, syncPrices, catalogFromLiteLLM, liteLLMProviders, normalizeModel } from './pricing/index.js';
export type { CatalogPrice, CatalogProvider, PriceCatalog, SyncPricesResult, LiteLLMImport, LiteLLMImportOptions, LiteLLMModelEntry } from './pricing/index.js';
export * as validation from './validation/index.js';
export { monthlyUsageQuery, activeSessionsQuery, checkQuotaQuery } from './queries/seedExamples.js';
export type { Database, Json, Tables, TablesInsert, TablesUpdate, Views, Enums, Functions } from './supabase/database.js';
export { rpcFunctionSpecs, rpcNullableColumns } from './supabase/functions.js';
export { callFunction, functionCallSql } from './rpc.js';
export type { RpcName, RpcArgs, RpcRow, RpcResult, PgTypeToValue } from './rpc.js';
