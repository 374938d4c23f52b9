import { sql } from 'drizzle-orm';
import { queryRows, type Db } from '../db.js';

/** What a sign-up gives Supabase Auth. Every field is optional, as in real sign-ups. */
export interface SignUpInput {
  id?: string;
  email?: string | null;
  phone?: string | null;
  emailConfirmed?: boolean;
  phoneConfirmed?: boolean;
  isAnonymous?: boolean;
  /** user_metadata: written by the user, never trusted for authorisation. */
  userMetadata?: Record<string, unknown> | null;
  /** app_metadata: written by the server only. */
  appMetadata?: Record<string, unknown>;
}

/**
 * Signs a user up the way Supabase Auth does on a real project: one insert
 * into auth.users as supabase_auth_admin, which fires our triggers. For local
 * use and tests only; on Supabase, Auth itself does this.
 */
export async function signUpLocal(db: Db, input: SignUpInput = {}): Promise<string> {
  const provider = input.isAnonymous ? 'anonymous' : input.email ? 'email' : input.phone ? 'phone' : 'email';
  const appMetadata = input.appMetadata ?? { provider, providers: [provider] };
  return db.transaction(async (tx) => {
    await tx.execute(sql`select set_config('role', 'supabase_auth_admin', true)`);
    const rows = await queryRows<{ id: string }>(
      tx,
      sql`insert into auth.users
            (instance_id, id, aud, role, email, phone, email_confirmed_at, phone_confirmed_at,
             raw_app_meta_data, raw_user_meta_data, is_anonymous, created_at, updated_at)
          values (
            '00000000-0000-0000-0000-000000000000',
            coalesce(${input.id ?? null}::uuid, gen_random_uuid()),
            'authenticated', 'authenticated',
            ${input.email ?? null}, ${input.phone ?? null},
            case when ${input.emailConfirmed ?? false} then now() end,
            case when ${input.phoneConfirmed ?? false} then now() end,
            ${JSON.stringify(appMetadata)}::jsonb,
            ${input.userMetadata === null ? null : JSON.stringify(input.userMetadata ?? {})}::jsonb,
            ${input.isAnonymous ?? false}, now(), now())
          returning id`,
    );
    const id = rows[0]?.id;
    if (!id) throw new Error('signUpLocal: auth.users returned no id');
    return id;
  });
}
