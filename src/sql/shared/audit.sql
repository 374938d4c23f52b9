-- The one audit writer: who acted (the JWT's user and the database role), on
-- whom, what, before and after, as the database saw it. Used by the account
-- triggers, the audit triggers of tiers and limits, and the purges.

create or replace function private.audit(p_subject uuid, p_action text, p_entity_type text, p_entity_id text,
  p_before jsonb, p_after jsonb)
returns void
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
begin
  insert into public.audit_log (actor_id, actor_role, subject_id, action, entity_type, entity_id, before, after)
  values ((select auth.uid()), coalesce(nullif(current_setting('role', true), 'none'), current_user),
          p_subject, p_action, p_entity_type, p_entity_id, p_before, p_after);
end;
$$;

comment on function private.audit(uuid, text, text, text, jsonb, jsonb) is
  'Writes one audit_log entry with the acting user (auth.uid()) and database role.';

revoke all on function private.audit(uuid, text, text, text, jsonb, jsonb) from public, anon, authenticated, service_role;
