// Organisations: membership, invitations, caps, their quota and grants.
// The membership functions act as the signed-in user (run them through
// asUser or withClaims): the database decides who may do what. Grants are
// billing's, written as service_role.
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { DbOrTx } from '../db.js';
import { parseInput, withInputErrors } from '../errors.js';
import { callFunction } from '../rpc.js';
import type { OrganisationRole } from '../schema/enums.js';
import { quotaGrants } from '../schema/quotas.js';
import {
  acceptInvitationInput,
  createGrantInput,
  createOrganisationInput,
  grantBalancesInput,
  inviteMemberInput,
  memberCapsInput,
  memberInput,
  organisationQuotaStatusInput,
  revokeInvitationInput,
  setMemberCapsInput,
  setMemberRoleInput,
  type CreateGrantInput,
  type InviteMemberInput,
  voidGrantInput,
} from '../validation/organisations.js';

/** Creates an organisation with the signed-in user as its owner; returns its id. */
export async function createOrganisation(db: DbOrTx, input: { name: string }): Promise<string> {
  const v = parseInput(createOrganisationInput, input);
  return withInputErrors(() => callFunction(db, 'create_organisation', { p_name: v.name }));
}

export interface Invitation {
  invitationId: string;
  /** Give it to the invitee; only its hash is kept, so it cannot be shown again. */
  token: string;
  expiresAt: Date;
}

/** Invites an email address (owners and admins; owners alone invite owners). */
export async function inviteMember(db: DbOrTx, input: InviteMemberInput): Promise<Invitation> {
  const v = parseInput(inviteMemberInput, input);
  const [row] = await withInputErrors(() =>
    callFunction(db, 'invite_member', {
      p_organisation_id: v.organisationId,
      p_email: v.email,
      p_role: v.role,
      p_ttl: `${v.ttlSeconds} seconds`,
    }),
  );
  if (!row) throw new Error('invite_member returned no row');
  return { invitationId: row.invitation_id, token: row.token, expiresAt: row.expires_at };
}

/** Joins the signed-in user to the organisation the invitation is for; returns the organisation. */
export async function acceptInvitation(db: DbOrTx, input: { token: string }): Promise<string> {
  const v = parseInput(acceptInvitationInput, input);
  return withInputErrors(() => callFunction(db, 'accept_invitation', { p_token: v.token }));
}

/** Revokes an open invitation; false when it was already accepted or revoked. */
export async function revokeInvitation(db: DbOrTx, input: { invitationId: string }): Promise<boolean> {
  const v = parseInput(revokeInvitationInput, input);
  return withInputErrors(() => callFunction(db, 'revoke_invitation', { p_invitation_id: v.invitationId }));
}

/** Changes another member's role; false when it was that role already. */
export async function setMemberRole(
  db: DbOrTx,
  input: { organisationId: string; userId: string; role: OrganisationRole },
): Promise<boolean> {
  const v = parseInput(setMemberRoleInput, input);
  return withInputErrors(() =>
    callFunction(db, 'set_member_role', { p_organisation_id: v.organisationId, p_user_id: v.userId, p_role: v.role }),
  );
}

/** Sets a member's monthly caps; null means the organisation's default. */
export async function setMemberCaps(
  db: DbOrTx,
  input: { organisationId: string; userId: string; monthlyTokens: number | null; monthlyCostUsd: string | null },
): Promise<void> {
  const v = parseInput(setMemberCapsInput, input);
  await withInputErrors(() =>
    callFunction(db, 'set_member_caps', {
      p_organisation_id: v.organisationId,
      p_user_id: v.userId,
      p_monthly_tokens: v.monthlyTokens ?? undefined,
      p_monthly_cost_usd: v.monthlyCostUsd ?? undefined,
    }),
  );
}

/** Sets the default monthly caps of the members; null is no cap. */
export async function setDefaultMemberCaps(
  db: DbOrTx,
  input: { organisationId: string; monthlyTokens: number | null; monthlyCostUsd: string | null },
): Promise<void> {
  const v = parseInput(memberCapsInput, input);
  await withInputErrors(() =>
    callFunction(db, 'set_default_member_caps', {
      p_organisation_id: v.organisationId,
      p_monthly_tokens: v.monthlyTokens ?? undefined,
      p_monthly_cost_usd: v.monthlyCostUsd ?? undefined,
    }),
  );
}

/** Removes a member, or the signed-in user themselves (leaving); false when they were not a member. */
export async function removeMember(db: DbOrTx, input: { organisationId: string; userId: string }): Promise<boolean> {
  const v = parseInput(memberInput, input);
  return withInputErrors(() => callFunction(db, 'remove_member', { p_organisation_id: v.organisationId, p_user_id: v.userId }));
}

export interface OrganisationQuotaStatus {
  organisationId: string;
  tierId: string;
  periodStart: Date;
  periodEnd: Date;
  monthlyTokenLimit: number;
  grantTokens: number;
  tokensUsed: number;
  tokensReserved: number;
  tokensRemaining: number;
  monthlyCostLimitUsd: string;
  grantCostUsd: string;
  costUsedUsd: string;
  costReservedUsd: string;
  costRemainingUsd: string;
  dailyRequestLimit: number;
  requestsToday: number;
  requestsReserved: number;
  requestsRemaining: number;
  softLimitPercent: number;
  softLimitReached: boolean;
  hardLimitReached: boolean;
  /** The member's share; null fields when they are not a member (or have no cap). */
  member: {
    userId: string | null;
    role: OrganisationRole | null;
    tokenCap: number | null;
    tokensUsed: number;
    tokensReserved: number;
    tokensRemaining: number | null;
    costCapUsd: string | null;
    costUsedUsd: string;
    costReservedUsd: string;
    costRemainingUsd: string | null;
  };
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
}

/**
 * An organisation's quota for the current month and a member's share (the
 * signed-in user's unless `userId` names another; owners and admins only).
 * Null when the caller may not see it.
 */
export async function getOrganisationQuotaStatus(
  db: DbOrTx,
  input: { organisationId: string; userId?: string },
): Promise<OrganisationQuotaStatus | null> {
  const v = parseInput(organisationQuotaStatusInput, input);
  const [r] = await withInputErrors(() =>
    callFunction(db, 'get_organisation_quota_status', { p_organisation_id: v.organisationId, p_user_id: v.userId }),
  );
  if (!r) return null;
  return {
    organisationId: r.organisation_id,
    tierId: r.tier_id,
    periodStart: r.period_start,
    periodEnd: r.period_end,
    monthlyTokenLimit: r.monthly_token_limit,
    grantTokens: r.grant_tokens,
    tokensUsed: r.tokens_used,
    tokensReserved: r.tokens_reserved,
    tokensRemaining: r.tokens_remaining,
    monthlyCostLimitUsd: r.monthly_cost_limit_usd,
    grantCostUsd: r.grant_cost_usd,
    costUsedUsd: r.cost_used_usd,
    costReservedUsd: r.cost_reserved_usd,
    costRemainingUsd: r.cost_remaining_usd,
    dailyRequestLimit: r.daily_request_limit,
    requestsToday: r.requests_today,
    requestsReserved: r.requests_reserved,
    requestsRemaining: r.requests_remaining,
    softLimitPercent: r.soft_limit_percent,
    softLimitReached: r.soft_limit_reached,
    hardLimitReached: r.hard_limit_reached,
    member: {
      userId: r.member_user_id,
      role: r.member_role,
      tokenCap: r.member_token_cap,
      tokensUsed: r.member_tokens_used,
      tokensReserved: r.member_tokens_reserved,
      tokensRemaining: r.member_tokens_remaining,
      costCapUsd: r.member_cost_cap_usd,
      costUsedUsd: r.member_cost_used_usd,
      costReservedUsd: r.member_cost_reserved_usd,
      costRemainingUsd: r.member_cost_remaining_usd,
    },
    requestsPerMinute: r.requests_per_minute,
    tokensPerMinute: r.tokens_per_minute,
  };
}

export interface GrantBalance {
  grantId: string;
  priority: number;
  reason: string;
  startsAt: Date;
  expiresAt: Date;
  tokens: number | null;
  tokensRemaining: number | null;
  costUsd: string | null;
  costRemainingUsd: string | null;
}

/** The active grants of a user or an organisation, with what is left of each this period. */
export async function getGrantBalances(
  db: DbOrTx,
  input: { userId: string } | { organisationId: string },
): Promise<GrantBalance[]> {
  const v = parseInput(grantBalancesInput, input);
  const rows = await withInputErrors(() =>
    callFunction(db, 'get_grant_balances', 'organisationId' in v ? { p_organisation_id: v.organisationId } : { p_user_id: v.userId }),
  );
  return rows.map((r) => ({
    grantId: r.grant_id,
    priority: r.priority,
    reason: r.reason,
    startsAt: r.starts_at,
    expiresAt: r.expires_at,
    tokens: r.tokens,
    tokensRemaining: r.tokens_remaining,
    costUsd: r.cost_usd,
    costRemainingUsd: r.cost_remaining_usd,
  }));
}

/** Gives a user or an organisation a grant (service_role); returns its id. Audited by the database. */
export async function createGrant(db: DbOrTx, input: CreateGrantInput): Promise<string> {
  const v = parseInput(createGrantInput, input);
  const [row] = await withInputErrors(() =>
    db
      .insert(quotaGrants)
      .values({
        userId: v.userId,
        organisationId: v.organisationId,
        tokens: v.tokens,
        costUsd: v.costUsd,
        priority: v.priority,
        reason: v.reason,
        startsAt: v.startsAt,
        expiresAt: v.expiresAt,
      })
      .returning({ id: quotaGrants.id }),
  );
  return row!.id;
}

/** Voids a grant from now on (service_role); false when it was void already. Audited by the database. */
export async function voidGrant(db: DbOrTx, input: { grantId: string }): Promise<boolean> {
  const v = parseInput(voidGrantInput, input);
  const rows = await db
    .update(quotaGrants)
    .set({ voidedAt: sql`now()` })
    .where(and(eq(quotaGrants.id, v.grantId), isNull(quotaGrants.voidedAt)))
    .returning({ id: quotaGrants.id });
  return rows.length > 0;
}
