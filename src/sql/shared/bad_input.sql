-- Raises a bad-input error whose message starts with the field's name
-- ("field: rule"), SQLSTATE 22023 unless told otherwise. TypeScript turns it
-- into a ValidationError naming the same field.

create or replace function private.bad_input(field text, rule text, code text default '22023')
returns void
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
security invoker
as $$
begin
  raise exception using errcode = code, message = field || ': ' || rule, column = field;
end;
$$;

comment on function private.bad_input(text, text, text) is
  'Raises "field: rule" with the given SQLSTATE (22023 by default) and the field as the error column.';

revoke all on function private.bad_input(text, text, text) from public, anon, authenticated, service_role;

grant execute on function private.bad_input(text, text, text) to authenticated, service_role;
