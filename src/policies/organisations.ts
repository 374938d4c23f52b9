import { or, sql } from 'drizzle-orm';
import { pgPolicy } from 'drizzle-orm/pg-core';
import {
  organisationInvitations,
  organisationMembers,
  organisationMemberUsageDaily,
  organisations,
  organisationUsageDaily,
} from '../schema/organisations.js';
import { quotaGrants, rateLimitState, tierModelLimits } from '../schema/quotas.js';
import { ownedBy, ownerMayRead, signedInMayRead } from './factories.js';
import { authenticatedRole, currentUserId } from './roles.js';

// Organisations are read through membership: the signed-in user's
// organisations (private.member_organisations) and those they own or
// administer (private.managed_organisations), each asked once per statement.
// Users write nothing here directly: the membership functions do, after
// checking who may do what; billing (tier, budget) is service_role's.
const memberOf = (column: Parameters<typeof sql>[1]) => sql`${column} in (select private.member_organisations())`;
const managerOf = (column: Parameters<typeof sql>[1]) => sql`${column} in (select private.managed_organisations())`;

export const organisationsMemberRead = pgPolicy('members read their organisations', {
  as: 'permissive',
  for: 'select',
  to: authenticatedRole,
  using: memberOf(organisations.id),
}).link(organisations);

export const organisationMembersMemberRead = pgPolicy('members read the members of their organisations', {
  as: 'permissive',
  for: 'select',
  to: authenticatedRole,
  using: memberOf(organisationMembers.organisationId),
}).link(organisationMembers);

export const organisationInvitationsManagerRead = pgPolicy('owners and managers read the invitations of their organisations', {
  as: 'permissive',
  for: 'select',
  to: authenticatedRole,
  using: managerOf(organisationInvitations.organisationId),
}).link(organisationInvitations);

// The organisation's totals: every member. The per-member breakdown: each
// member their own, owners and managers everyone's.
export const organisationUsageMemberRead = pgPolicy('members read the totals of their organisations', {
  as: 'permissive',
  for: 'select',
  to: authenticatedRole,
  using: memberOf(organisationUsageDaily.organisationId),
}).link(organisationUsageDaily);

export const organisationMemberUsageRead = pgPolicy('members read their own use, owners and managers everyone\'s', {
  as: 'permissive',
  for: 'select',
  to: authenticatedRole,
  using: or(ownedBy(organisationMemberUsageDaily.userId), managerOf(organisationMemberUsageDaily.organisationId)),
}).link(organisationMemberUsageDaily);

// Grants: a user's own, and their organisations' for owners and managers.
export const quotaGrantsRead = pgPolicy('users read their own grants, owners and managers their organisation\'s', {
  as: 'permissive',
  for: 'select',
  to: authenticatedRole,
  using: sql`${quotaGrants.userId} = ${currentUserId} or ${managerOf(quotaGrants.organisationId)}`,
}).link(quotaGrants);

// The tiers' model caps are reference data, like the tiers.
export const tierModelLimitsRead = signedInMayRead('signed-in users read the model limits of tiers', tierModelLimits);

// A user reads their own per-minute state (when their next request fits);
// an organisation's is read by service_role only. reserve_quota writes it.
export const rateLimitStateOwnerRead = ownerMayRead('users read their own rate-limit state', rateLimitState, rateLimitState.subjectId);
