-- A UUID of version 7 (RFC 9562): 48 bits of Unix time in milliseconds, then
-- random bits, so ids made later sort later. Reservations use it: they are made
-- and settled on every request, and ordered ids keep those index writes at the
-- right edge of the primary key however long the history.

create or replace function private.uuid_v7()
returns uuid
language sql
volatile
set search_path = pg_catalog, pg_temp
security invoker
as $$
  select encode(
    set_bit(set_bit(
      overlay(uuid_send(gen_random_uuid())
        placing substring(int8send(floor(extract(epoch from clock_timestamp()) * 1000)::bigint) from 3)
        from 1 for 6),
      52, 1), 53, 1),
    'hex')::uuid
$$;

comment on function private.uuid_v7() is
  'A time-ordered UUID (version 7): ids made later sort later.';

revoke all on function private.uuid_v7() from public, anon, authenticated, service_role;

grant execute on function private.uuid_v7() to service_role;
