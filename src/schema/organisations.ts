import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  customType,
  date,
  index,
  integer,
  numeric,
  pgTable,
  pgView,
  primaryKey,
  smallint,
  text,
  uniqueIndex,
  uuid,
} from 'drizzle-orm/pg-core';
import { counter, timestamps, timestamptz, tokenCount, usdTotal } from './columns.js';
import { agentMode, organisationRole } from './enums.js';
import { limits } from './limits.js';
import { profiles } from './profiles.js';
import { quotaTiers } from './quotas.js';

// SHA-256 digests; through the API (PostgREST) a bytea is a hex string, and
// no API role reads this one.
const bytea = customType<{ data: string; driverData: string }>({ dataType: () => 'bytea' });

// Monthly cost limits and caps are whole cents or finer, as the users' limits.
const usdLimit = () => numeric({ precision: 14, scale: 4 });

/**
 * A team that shares a budget. Its limits come from its tier (a quota_tiers
 * row, `team` unless billing says otherwise) or from the overrides, which
 * only service_role sets: tier, budget and per-minute limits are billing.
 * Owners and admins set the default cap of each member's monthly use
 * (through set_member_caps); members read the row. Created by
 * create_organisation, which makes its caller the first owner.
 */
export const organisations = pgTable(
  'organisations',
  {
    id: uuid()
      .primaryKey()
      .default(sql`private.uuid_v7()`),
    name: text().notNull(),
    tierId: text()
      .notNull()
      .default('team')
      .references(() => quotaTiers.id, { onDelete: 'restrict', onUpdate: 'cascade' }),
    // Billing's overrides of the tier; null means "the tier's value".
    monthlyTokenLimitOverride: bigint({ mode: 'number' }),
    monthlyCostLimitUsdOverride: usdLimit(),
    softLimitPercentOverride: smallint(),
    requestsPerMinuteOverride: integer(),
    tokensPerMinuteOverride: bigint({ mode: 'number' }),
    // What one member may use of the organisation's budget in a month, unless
    // their membership says otherwise; null is no cap beyond the budget.
    memberTokenCap: bigint({ mode: 'number' }),
    memberCostCapUsd: usdLimit(),
    createdBy: uuid().references(() => profiles.id, { onDelete: 'set null' }),
    ...timestamps,
  },
  (t) => [
    index('organisations_tier_idx').on(t.tierId),
    index('organisations_created_by_idx').on(t.createdBy),
    check('organisations_name_length', sql.raw(`char_length(btrim(name)) between 1 and ${limits.organisationNameLength}`)),
    // The upper bounds also refuse NaN.
    check(
      'organisations_limits_range',
      sql.raw(`monthly_token_limit_override between 0 and ${limits.monthlyTokenLimit}
        and monthly_cost_limit_usd_override between 0 and ${limits.monthlyCostLimitUsd}
        and soft_limit_percent_override between 1 and 100
        and requests_per_minute_override between 1 and ${limits.requestsPerMinuteMax}
        and tokens_per_minute_override between 1 and ${limits.tokensPerMinuteMax}
        and member_token_cap between 0 and ${limits.monthlyTokenLimit}
        and member_cost_cap_usd between 0 and ${limits.monthlyCostLimitUsd}`),
    ),
  ],
).enableRLS();

export type Organisation = typeof organisations.$inferSelect;

/**
 * Who belongs to an organisation, and as what. Written only by the
 * membership functions (create_organisation, accept_invitation,
 * set_member_role, set_member_caps, remove_member), which keep the rules:
 * nobody changes their own role, an admin neither makes nor removes an
 * owner, the last owner stays. Every change is audited by the database.
 */
export const organisationMembers = pgTable(
  'organisation_members',
  {
    organisationId: uuid()
      .notNull()
      .references(() => organisations.id, { onDelete: 'cascade' }),
    userId: uuid()
      .notNull()
      .references(() => profiles.id, { onDelete: 'cascade' }),
    role: organisationRole().notNull().default('member'),
    // This member's own caps; null means the organisation's default.
    tokenCapOverride: bigint({ mode: 'number' }),
    costCapUsdOverride: usdLimit(),
    invitedBy: uuid().references(() => profiles.id, { onDelete: 'set null' }),
    ...timestamps,
  },
  (t) => [
    primaryKey({ name: 'organisation_members_pkey', columns: [t.organisationId, t.userId] }),
    // A user's organisations (the policies ask it on every read), and the foreign keys.
    index('organisation_members_user_idx').on(t.userId, t.organisationId, t.role),
    index('organisation_members_invited_by_idx').on(t.invitedBy),
    check(
      'organisation_members_caps_range',
      sql.raw(`token_cap_override between 0 and ${limits.monthlyTokenLimit}
        and cost_cap_usd_override between 0 and ${limits.monthlyCostLimitUsd}`),
    ),
  ],
).enableRLS();

export type OrganisationMember = typeof organisationMembers.$inferSelect;

/**
 * An invitation to join as `role`, for one email address. Only the hash of
 * its token is kept (the token is shown once, to whoever invited); it is
 * accepted by the signed-in user whose verified email it names, once, before
 * it expires. Written only by invite_member, revoke_invitation and
 * accept_invitation; owners and admins read their organisation's.
 */
export const organisationInvitations = pgTable(
  'organisation_invitations',
  {
    id: uuid()
      .primaryKey()
      .default(sql`private.uuid_v7()`),
    organisationId: uuid()
      .notNull()
      .references(() => organisations.id, { onDelete: 'cascade' }),
    // Lower case, as compared with the invitee's profile.
    email: text().notNull(),
    role: organisationRole().notNull().default('member'),
    tokenHash: bytea().notNull(),
    invitedBy: uuid().references(() => profiles.id, { onDelete: 'set null' }),
    expiresAt: timestamptz().notNull(),
    acceptedAt: timestamptz(),
    acceptedBy: uuid().references(() => profiles.id, { onDelete: 'set null' }),
    revokedAt: timestamptz(),
    createdAt: timestamptz().notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('organisation_invitations_token_key').on(t.tokenHash),
    index('organisation_invitations_organisation_idx').on(t.organisationId, t.createdAt),
    index('organisation_invitations_invited_by_idx').on(t.invitedBy),
    index('organisation_invitations_accepted_by_idx').on(t.acceptedBy),
    check('organisation_invitations_email_format', sql.raw(`email = lower(email) and char_length(email) <= ${limits.emailLength} and email ~ '^[^@[:space:]]+@[^@[:space:]]+$'`)),
    check('organisation_invitations_token_hash_length', sql`octet_length(${t.tokenHash}) = 32`),
  ],
).enableRLS();

export type OrganisationInvitation = typeof organisationInvitations.$inferSelect;

/**
 * An organisation's daily totals per provider, model and agent mode, kept
 * exact by record_usage in the same transaction as each event recorded for
 * the organisation (the organisation's counterpart of ai_usage_daily; usage
 * of an organisation is not personal usage). Spread over 8 bucket rows like
 * the users' totals. Every member reads them; the budget check sums them.
 */
export const organisationUsageDaily = pgTable(
  'organisation_usage_daily',
  {
    organisationId: uuid()
      .notNull()
      .references(() => organisations.id, { onDelete: 'cascade' }),
    date: timestamptz().notNull(),
    provider: text().notNull(),
    model: text().notNull(),
    agentMode: agentMode().notNull(),
    bucket: smallint().notNull().default(0),
    requestCount: counter(),
    successCount: counter(),
    errorCount: counter(),
    cancelledCount: counter(),
    unpricedCount: counter(),
    inputTokens: tokenCount(),
    outputTokens: tokenCount(),
    cachedInputTokens: tokenCount(),
    cacheWriteTokens: tokenCount(),
    reasoningTokens: tokenCount(),
    totalTokens: tokenCount(),
    costUsd: usdTotal().notNull().default('0'),
    // The part of cost_usd paid on the members' own provider keys: budgets count cost_usd - byok_cost_usd.
    byokCostUsd: usdTotal().notNull().default('0'),
    updatedAt: timestamptz().notNull().defaultNow(),
  },
  (t) => [
    primaryKey({
      name: 'organisation_usage_daily_pkey',
      columns: [t.organisationId, t.date, t.provider, t.model, t.agentMode, t.bucket],
    }),
    // No CHECK constraints: derived rows, written only by record_usage and
    // record_adjustment from validated input (as ai_usage_daily).
  ],
).enableRLS();

export type OrganisationUsageDaily = typeof organisationUsageDaily.$inferSelect;

/**
 * Each member's daily use of an organisation: what their caps count, and the
 * per-member breakdown that owners and admins read (members read their own).
 */
export const organisationMemberUsageDaily = pgTable(
  'organisation_member_usage_daily',
  {
    organisationId: uuid()
      .notNull()
      .references(() => organisations.id, { onDelete: 'cascade' }),
    userId: uuid()
      .notNull()
      .references(() => profiles.id, { onDelete: 'cascade' }),
    date: timestamptz().notNull(),
    bucket: smallint().notNull().default(0),
    requestCount: counter(),
    totalTokens: tokenCount(),
    costUsd: usdTotal().notNull().default('0'),
    byokCostUsd: usdTotal().notNull().default('0'),
    updatedAt: timestamptz().notNull().defaultNow(),
  },
  (t) => [
    primaryKey({
      name: 'organisation_member_usage_daily_pkey',
      columns: [t.organisationId, t.userId, t.date, t.bucket],
    }),
    // The foreign key to profiles (account deletion).
    index('organisation_member_usage_daily_user_idx').on(t.userId),
  ],
).enableRLS();

export type OrganisationMemberUsageDaily = typeof organisationMemberUsageDaily.$inferSelect;

/** Monthly figures of organisations, derived from their daily rows (RLS of the caller applies). */
export const organisationUsageMonthly = pgView('organisation_usage_monthly', {
  organisationId: uuid().notNull(),
  month: date({ mode: 'string' }).notNull(),
  provider: text().notNull(),
  model: text().notNull(),
  agentMode: agentMode().notNull(),
  requestCount: bigint({ mode: 'number' }).notNull(),
  totalTokens: bigint({ mode: 'number' }).notNull(),
  costUsd: usdTotal().notNull(),
  byokCostUsd: usdTotal().notNull(),
})
  .with({ securityInvoker: true })
  .as(sql`select organisation_id,
      (date_trunc('month', date, 'UTC') at time zone 'UTC')::date as month,
      provider, model, agent_mode,
      sum(request_count)::bigint as request_count,
      sum(total_tokens)::bigint as total_tokens,
      sum(cost_usd)::numeric as cost_usd,
      sum(byok_cost_usd)::numeric as byok_cost_usd
    from public.organisation_usage_daily
    group by organisation_id, date_trunc('month', date, 'UTC'), provider, model, agent_mode`);

/** Each member's monthly use of an organisation (RLS of the caller applies). */
export const organisationMemberUsageMonthly = pgView('organisation_member_usage_monthly', {
  organisationId: uuid().notNull(),
  userId: uuid().notNull(),
  month: date({ mode: 'string' }).notNull(),
  requestCount: bigint({ mode: 'number' }).notNull(),
  totalTokens: bigint({ mode: 'number' }).notNull(),
  costUsd: usdTotal().notNull(),
  byokCostUsd: usdTotal().notNull(),
})
  .with({ securityInvoker: true })
  .as(sql`select organisation_id, user_id,
      (date_trunc('month', date, 'UTC') at time zone 'UTC')::date as month,
      sum(request_count)::bigint as request_count,
      sum(total_tokens)::bigint as total_tokens,
      sum(cost_usd)::numeric as cost_usd,
      sum(byok_cost_usd)::numeric as byok_cost_usd
    from public.organisation_member_usage_daily
    group by organisation_id, user_id, date_trunc('month', date, 'UTC')`);
