-- Marks reservations past their time as expired (they already stopped
-- counting when they expired; this tidies their status). Returns how many.

create or replace function public.expire_quota_reservations()
returns integer
language plpgsql
set search_path = pg_catalog, pg_temp
security definer
as $$
declare
  v_count integer;
begin
  update public.quota_reservations r set status = 'expired', resolved_at = now()
  where r.status = 'active' and r.expires_at <= now();
  get diagnostics v_count = row_count;
  return v_count;
end;
$$;

comment on function public.expire_quota_reservations() is
  'Marks active reservations past their expiry as expired; returns how many.';

revoke all on function public.expire_quota_reservations() from public, anon, authenticated, service_role;

grant execute on function public.expire_quota_reservations() to service_role;
