import { pgEnum } from 'drizzle-orm/pg-core';

// Each list is exported once as a const array: TypeScript types, validation
// and the SQL enum all come from it.

/** How the Witchcraft agent is working: reading code, chasing a bug, or writing code. */
export const agentModes = ['understand', 'debug', 'implement'] as const;
export type AgentMode = (typeof agentModes)[number];
export const agentMode = pgEnum('agent_mode', agentModes);

/**
 * What a usage event is: one AI request, or a signed correction of an earlier
 * one (record_adjustment), which moves the same totals by its deltas.
 */
export const usageKinds = ['request', 'adjustment'] as const;
export type UsageKind = (typeof usageKinds)[number];
export const usageKind = pgEnum('usage_kind', usageKinds);

/** Outcome of one AI request. */
export const usageStatuses = ['success', 'error', 'cancelled'] as const;
export type UsageStatus = (typeof usageStatuses)[number];
export const usageStatus = pgEnum('usage_status', usageStatuses);

/**
 * Where an event's cost came from: given by the caller, computed from the
 * price table, zero because the model runs locally, or unknown (no price).
 */
export const costSources = ['given', 'price_table', 'free_local', 'unpriced'] as const;
export type CostSource = (typeof costSources)[number];
export const costSource = pgEnum('cost_source', costSources);

/**
 * How the provider ran a request, which decides its price: the normal
 * service, the Batch APIs (half price, results later), flex (cheaper, may be
 * slower or refused) and priority (dearer, faster).
 */
export const serviceTiers = ['standard', 'batch', 'flex', 'priority'] as const;
export type ServiceTier = (typeof serviceTiers)[number];
export const serviceTier = pgEnum('service_tier', serviceTiers);

/** Life of an agent session; every state but `active` is final. */
export const sessionStatuses = ['active', 'completed', 'failed', 'cancelled', 'abandoned'] as const;
export type SessionStatus = (typeof sessionStatuses)[number];
export const sessionStatus = pgEnum('session_status', sessionStatuses);

/** Who wrote a message in an agent conversation. */
export const messageRoles = ['user', 'assistant', 'system', 'tool'] as const;
export type MessageRole = (typeof messageRoles)[number];
export const messageRole = pgEnum('message_role', messageRoles);

/** Life of a quota reservation; only `active` ones hold quota. */
export const reservationStatuses = ['active', 'settled', 'released', 'expired'] as const;
export type ReservationStatus = (typeof reservationStatuses)[number];
export const reservationStatus = pgEnum('reservation_status', reservationStatuses);

/**
 * The limits a quota notification speaks of. Monthly figures count the quota
 * period (user_quotas.reset_day); daily requests the UTC day.
 */
export const quotaLimits = ['monthly_tokens', 'monthly_cost_usd', 'daily_requests'] as const;
export type QuotaLimit = (typeof quotaLimits)[number];
export const quotaLimit = pgEnum('quota_limit', quotaLimits);

/**
 * What a quota notification tells: recorded usage reached a threshold of a
 * limit (a percentage of the tier's alert_percents), or reserve_quota refused
 * a request at the limit.
 */
export const notificationKinds = ['threshold_reached', 'limit_refused'] as const;
export type NotificationKind = (typeof notificationKinds)[number];
export const notificationKind = pgEnum('notification_kind', notificationKinds);

/**
 * A member's role in an organisation: owners and admins manage members,
 * invitations and caps; owners alone make or remove owners.
 */
export const organisationRoles = ['owner', 'admin', 'member'] as const;
export type OrganisationRole = (typeof organisationRoles)[number];
export const organisationRole = pgEnum('organisation_role', organisationRoles);
