-- Every change of organisations, memberships, invitations, grants and the
-- tiers' model caps goes to the audit log, written by the database: the row
-- before and after (an invitation's token hash left out). The trigger's
-- arguments name the entity and the column that says whom it is about.

create or replace function private.audit_row_change()
returns trigger
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_before jsonb := case when tg_op <> 'INSERT' then to_jsonb(old) - '{token_hash,updated_at}'::text[] end;
  v_after jsonb := case when tg_op <> 'DELETE' then to_jsonb(new) - '{token_hash,updated_at}'::text[] end;
  v_row jsonb := coalesce(v_after, v_before);
begin
  if v_before is distinct from v_after then
    perform private.audit(
      (v_row ->> tg_argv[1])::uuid,
      tg_argv[0] || '.' || case tg_op when 'INSERT' then 'created' when 'UPDATE' then 'changed' else 'deleted' end,
      tg_table_name,
      coalesce(v_row ->> 'id', (v_row ->> 'organisation_id') || coalesce('/' || (v_row ->> 'user_id'), '/' || (v_row ->> 'tier_id') || '/' || (v_row ->> 'model_pattern'), '')),
      v_before, v_after);
  end if;
  return null;
end;
$$;

comment on function private.audit_row_change() is
  'Trigger: audits a row''s change (argument 1: entity name for the action, argument 2: the column naming its subject).';

revoke all on function private.audit_row_change() from public, anon, authenticated, service_role;

create or replace trigger organisations_audit after insert or update or delete on public.organisations
  for each row execute function private.audit_row_change('organisation', 'created_by');

create or replace trigger organisation_members_audit after insert or update or delete on public.organisation_members
  for each row execute function private.audit_row_change('organisation_member', 'user_id');

create or replace trigger organisation_invitations_audit after insert or update or delete on public.organisation_invitations
  for each row execute function private.audit_row_change('organisation_invitation', 'accepted_by');

create or replace trigger quota_grants_audit after insert or update or delete on public.quota_grants
  for each row execute function private.audit_row_change('quota_grant', 'user_id');

create or replace trigger tier_model_limits_audit after insert or update or delete on public.tier_model_limits
  for each row execute function private.audit_row_change('tier_model_limit', 'tier_id_is_no_user');

create or replace trigger organisations_set_updated_at before update on public.organisations
  for each row execute function private.set_updated_at();

create or replace trigger organisation_members_set_updated_at before update on public.organisation_members
  for each row execute function private.set_updated_at();

create or replace trigger tier_model_limits_set_updated_at before update on public.tier_model_limits
  for each row execute function private.set_updated_at();
