-- Gives a reservation back when the request failed before it was recorded.
-- True when it was active; false when it had already ended (settled,
-- released, expired).

create or replace function public.release_quota(p_user_id uuid, p_reservation_id uuid)
returns boolean
language plpgsql
set search_path = pg_catalog, pg_temp
security definer
as $$
begin
  update public.quota_reservations r set status = 'released', resolved_at = now()
  where r.id = p_reservation_id and r.user_id = p_user_id and r.status = 'active';
  if found then return true; end if;
  if not exists (select 1 from public.quota_reservations r where r.id = p_reservation_id and r.user_id = p_user_id) then
    perform private.bad_input('reservation_id', 'is not a reservation of this user', '23503');
  end if;
  return false;
end;
$$;

comment on function public.release_quota(uuid, uuid) is
  'Gives back an active reservation of the user; false when it had already ended.';

revoke all on function public.release_quota(uuid, uuid) from public, anon, authenticated, service_role;

grant execute on function public.release_quota(uuid, uuid) to service_role;
