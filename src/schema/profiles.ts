import { sql } from 'drizzle-orm';
import { authUsers } from 'drizzle-orm/supabase';
import {
  bigint,
  boolean,
  check,
  index,
  inet,
  jsonb,
  pgTable,
  pgView,
  text,
  uuid,
} from 'drizzle-orm/pg-core';
import { timestamps, timestamptz } from './columns.js';
import { limits } from './limits.js';

/**
 * One profile per Supabase Auth user, created by a trigger on `auth.users`
 * and deleted with it. Email and verification state are copied from
 * `auth.users` by the database; users may change only the display fields.
 */
export const profiles = pgTable(
  'profiles',
  {
    id: uuid()
      .primaryKey()
      .references(() => authUsers.id, { onDelete: 'cascade' }),
    email: text(),
    emailVerified: boolean().notNull().default(false),
    phone: text(),
    displayName: text(),
    avatarUrl: text(),
    // Set only by the database or service_role: never by the user (column grants + audit trigger).
    isAdmin: boolean().notNull().default(false),
    isAnonymous: boolean().notNull().default(false),
    ...timestamps,
  },
  (t) => [
    check('profiles_display_name_length', sql`char_length(${t.displayName}) <= ${sql.raw(String(limits.displayNameLength))}`),
    check('profiles_avatar_url_length', sql`char_length(${t.avatarUrl}) <= ${sql.raw(String(limits.avatarUrlLength))}`),
  ],
).enableRLS();

export type Profile = typeof profiles.$inferSelect;
export type NewProfile = typeof profiles.$inferInsert;

/**
 * `users(id, email)` as the seed's queries expect it, over profiles rather
 * than `auth.users`. security_invoker makes the caller's RLS on profiles apply.
 */
export const users = pgView('users', {
  id: uuid().notNull(),
  email: text(),
  displayName: text(),
  createdAt: timestamptz().notNull(),
})
  .with({ securityInvoker: true, securityBarrier: true })
  .as(sql`select id, email, display_name, created_at from public.profiles`);

/**
 * Append-only record of who did what to whom. No foreign key to the user, so
 * entries outlive the account they describe. Sensitive changes (admin flag,
 * tier, limits) are written here by database triggers.
 */
export const auditLog = pgTable(
  'audit_log',
  {
    id: bigint({ mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    occurredAt: timestamptz().notNull().defaultNow(),
    // The user who acted; null when the database or a service acted on its own.
    actorId: uuid(),
    // The database role that made the change (authenticated, service_role, ...).
    actorRole: text().notNull().default(sql`current_user`),
    // The user whose data changed; users read the entries about themselves.
    subjectId: uuid(),
    action: text().notNull(),
    entityType: text().notNull(),
    entityId: text(),
    before: jsonb(),
    after: jsonb(),
    ipAddress: inet(),
    userAgent: text(),
  },
  (t) => [
    // A user's own audit trail, newest first.
    index('audit_log_subject_time_idx').on(t.subjectId, t.occurredAt.desc()),
    // Retention sweeps by age.
    index('audit_log_occurred_at_idx').on(t.occurredAt),
    check('audit_log_action_length', sql`char_length(${t.action}) between 1 and 100`),
    check('audit_log_entity_type_length', sql`char_length(${t.entityType}) between 1 and 100`),
    check('audit_log_user_agent_length', sql`char_length(${t.userAgent}) <= 1000`),
  ],
).enableRLS();

export type AuditEntry = typeof auditLog.$inferSelect;
export type NewAuditEntry = typeof auditLog.$inferInsert;
