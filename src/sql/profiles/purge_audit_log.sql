-- Retention: the one way entries leave the audit log. Deletes entries older
-- than p_older_than (at least 30 days), records the purge itself, and returns
-- how many it deleted. service_role only.

create or replace function public.purge_audit_log(p_older_than interval)
returns integer
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v_count integer;
begin
  if p_older_than is null or p_older_than < interval '30 days' then
    perform private.bad_input('older_than', 'must be at least 30 days');
  end if;
  perform set_config('witchcraft.audit_retention', 'on', true);
  delete from public.audit_log a where a.occurred_at < now() - p_older_than;
  get diagnostics v_count = row_count;
  perform set_config('witchcraft.audit_retention', 'off', true);
  -- The purge itself is on the record.
  perform private.audit(null, 'audit.purged', 'audit_log', null, null,
    jsonb_build_object('older_than', p_older_than::text, 'purged', v_count));
  return v_count;
end;
$$;

comment on function public.purge_audit_log(interval) is
  'Retention: deletes audit entries older than the given age (at least 30 days); the purge is audited.';

revoke all on function public.purge_audit_log(interval) from public, anon, authenticated, service_role;

grant execute on function public.purge_audit_log(interval) to service_role;
