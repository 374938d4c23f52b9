-- Functions that lock a row and then decide from what they read (quota
-- reservations, corrections) are right only when each statement sees what was
-- committed before the lock: READ COMMITTED. Under REPEATABLE READ or
-- SERIALIZABLE the transaction's snapshot predates the lock, and a decision
-- could miss a concurrent reservation or correction. They refuse those levels
-- with this clear error instead of deciding wrongly.
create or replace function private.require_read_committed(p_function text)
returns void
language plpgsql
stable
set search_path = pg_catalog, pg_temp
security invoker
as $$
declare
  v_level text := current_setting('transaction_isolation');
begin
  if v_level <> 'read committed' then
    raise exception using
      errcode = 'invalid_transaction_state',
      message = format('%s: needs a READ COMMITTED transaction, and this one is %s', p_function, upper(v_level)),
      detail = 'Its snapshot was taken before the lock this function takes, so it could decide from stale totals.',
      hint = 'Call it in its own transaction, or at the READ COMMITTED isolation level.';
  end if;
end;
$$;

comment on function private.require_read_committed(text) is
  'Raises invalid_transaction_state unless the transaction is READ COMMITTED (for functions that lock, then decide).';

revoke all on function private.require_read_committed(text) from public, anon, authenticated, service_role;
