import { sql } from 'drizzle-orm';
import { anonRole, authenticatedRole, authUid, serviceRole } from 'drizzle-orm/supabase';

// Supabase's API roles. They exist on every project; drizzle-kit never creates them
// (drizzle.config.ts: entities.roles.provider = 'supabase').
export { anonRole, authenticatedRole, serviceRole };

/** The signed-in user's id, `(select auth.uid())`: evaluated once per statement. */
export const currentUserId = authUid;

/**
 * True when the signed-in user's profile carries the admin flag. The check is
 * a SECURITY DEFINER function in the `private` schema (not exposed by the
 * API), so policies need no join on profiles; wrapped in a sub-select so it
 * runs once per statement.
 */
export const currentUserIsAdmin = sql`(select private.is_admin())`;
