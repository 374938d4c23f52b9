import { z } from 'zod';
import { organisationRoles } from '../schema/enums.js';
import { limits, messages } from '../schema/limits.js';
import { decimalAtMost } from './usage.js';

const uuid = z.uuid('must be a uuid');
const role = z.enum(organisationRoles, 'must be one of owner, admin, member');
const monthlyTokens = z.number().int('must be a whole number').min(0, messages.memberCap).max(limits.monthlyTokenLimit, messages.memberCap);
const monthlyCostUsd = z
  .string()
  .regex(/^\d{1,10}(\.\d{1,4})?$/, 'must be a number of USD with at most 4 decimals')
  .refine((v) => decimalAtMost(v, limits.monthlyCostLimitUsd), messages.memberCap);

export const createOrganisationInput = z
  .object({ name: z.string().trim().min(1, messages.organisationName).max(limits.organisationNameLength, messages.organisationName) })
  .strict();

export const inviteMemberInput = z
  .object({
    organisationId: uuid,
    email: z
      .string()
      .trim()
      .toLowerCase()
      .max(limits.emailLength, messages.email)
      .regex(/^[^@\s]+@[^@\s]+$/, messages.email),
    role: role.default('member'),
    /** How long the invitation stays open, in seconds (a minute to 30 days; a week by default). */
    ttlSeconds: z
      .number()
      .int()
      .min(limits.invitationTtlMinSeconds, messages.invitationTtl)
      .max(limits.invitationTtlMaxSeconds, messages.invitationTtl)
      .default(7 * 86_400),
  })
  .strict();
export type InviteMemberInput = z.input<typeof inviteMemberInput>;

export const acceptInvitationInput = z
  .object({ token: z.string().regex(/^[0-9a-f]{64}$/, 'is not an invitation token') })
  .strict();

export const revokeInvitationInput = z.object({ invitationId: uuid }).strict();

export const memberInput = z.object({ organisationId: uuid, userId: uuid }).strict();

export const setMemberRoleInput = z.object({ organisationId: uuid, userId: uuid, role }).strict();

/** Caps of a member (or the organisation's default): null is none (or the default). */
export const memberCapsInput = z
  .object({
    organisationId: uuid,
    monthlyTokens: monthlyTokens.nullable(),
    monthlyCostUsd: monthlyCostUsd.nullable(),
  })
  .strict();

export const setMemberCapsInput = memberCapsInput.extend({ userId: uuid }).strict();

export const organisationQuotaStatusInput = z.object({ organisationId: uuid, userId: uuid.optional() }).strict();

export const grantBalancesInput = z
  .union([z.object({ userId: uuid }).strict(), z.object({ organisationId: uuid }).strict()]);

export const createGrantInput = z
  .object({
    userId: uuid.optional(),
    organisationId: uuid.optional(),
    tokens: monthlyTokens.optional(),
    costUsd: monthlyCostUsd.optional(),
    priority: z.number().int().min(-1000, 'must be between -1000 and 1000').max(1000, 'must be between -1000 and 1000').default(0),
    reason: z.string().trim().min(1, messages.grantReason).max(limits.grantReasonLength, messages.grantReason),
    startsAt: z.date('must be a date').optional(),
    expiresAt: z.date('must be a date'),
  })
  .strict()
  .refine((v) => (v.userId === undefined) !== (v.organisationId === undefined), {
    path: ['userId'],
    message: 'give exactly one of userId and organisationId',
  })
  .refine((v) => v.tokens !== undefined || v.costUsd !== undefined, { path: ['tokens'], message: 'give tokens, costUsd or both' })
  .refine((v) => v.expiresAt.getTime() > (v.startsAt ?? new Date()).getTime(), {
    path: ['expiresAt'],
    message: 'must be after startsAt (now when left out)',
  });
export type CreateGrantInput = z.input<typeof createGrantInput>;

export const voidGrantInput = z.object({ grantId: uuid }).strict();
