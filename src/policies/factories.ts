import { eq, or, sql, type SQL } from 'drizzle-orm';
import { pgPolicy, type AnyPgColumn, type PgTable } from 'drizzle-orm/pg-core';
import { authenticatedRole, currentUserId, currentUserIsAdmin } from './roles.js';

// A handful of policy shapes cover every table. Each policy names one role and
// one command, so no two permissive policies ever overlap.

/** `column = auth.uid()`: the row belongs to the signed-in user. */
export const ownedBy = (owner: AnyPgColumn): SQL => eq(owner, currentUserId);

/** The signed-in user reads their own rows. */
export const ownerMayRead = (name: string, table: PgTable, owner: AnyPgColumn) =>
  pgPolicy(name, { as: 'permissive', for: 'select', to: authenticatedRole, using: ownedBy(owner) }).link(table);

/** The signed-in user reads their own rows; admins read everyone's (support). */
export const ownerOrAdminMayRead = (name: string, table: PgTable, owner: AnyPgColumn) =>
  pgPolicy(name, {
    as: 'permissive',
    for: 'select',
    to: authenticatedRole,
    using: or(ownedBy(owner), currentUserIsAdmin),
  }).link(table);

/** The signed-in user inserts rows only as themselves. */
export const ownerMayInsert = (name: string, table: PgTable, owner: AnyPgColumn) =>
  pgPolicy(name, { as: 'permissive', for: 'insert', to: authenticatedRole, withCheck: ownedBy(owner) }).link(table);

/**
 * The signed-in user updates their own rows and cannot hand them to anyone
 * else. Which columns they may touch is decided by column grants.
 */
export const ownerMayUpdate = (name: string, table: PgTable, owner: AnyPgColumn) =>
  pgPolicy(name, {
    as: 'permissive',
    for: 'update',
    to: authenticatedRole,
    using: ownedBy(owner),
    withCheck: ownedBy(owner),
  }).link(table);

/** Reference data (prices, tiers, providers): any signed-in user reads it; anon does not. */
export const signedInMayRead = (name: string, table: PgTable) =>
  pgPolicy(name, { as: 'permissive', for: 'select', to: authenticatedRole, using: sql`true` }).link(table);
