-- Row rules kept by triggers instead of CHECK constraints (on rows every
-- request rewrites; see agentSessions/agent_sessions_life_cycle.sql) fail as a
-- CHECK would: SQLSTATE 23514, naming the rule as the constraint and the column.

create or replace function private.row_rule_broken(p_rule text, p_column text, p_message text)
returns void
language plpgsql
volatile
set search_path = pg_catalog, pg_temp
security invoker
as $$
begin
  raise exception using
    errcode = 'check_violation',
    constraint = p_rule,
    column = p_column,
    message = format('%s: %s (%s)', p_column, p_message, p_rule);
end;
$$;

comment on function private.row_rule_broken(text, text, text) is
  'Raises a check_violation for a row rule enforced by a trigger, naming the rule and the column.';

revoke all on function private.row_rule_broken(text, text, text) from public, anon, authenticated, service_role;

grant execute on function private.row_rule_broken(text, text, text) to authenticated, service_role;

create or replace function private.first_negative(p_row jsonb, p_columns text[])
returns text
language sql
immutable
set search_path = pg_catalog, pg_temp
security invoker
as $$
  select c from unnest(p_columns) with ordinality as u(c, n)
  where (p_row ->> c)::numeric < 0
  order by n
  limit 1
$$;

comment on function private.first_negative(jsonb, text[]) is
  'The first of the given columns whose value in the row is negative (for error messages).';

revoke all on function private.first_negative(jsonb, text[]) from public, anon, authenticated, service_role;

grant execute on function private.first_negative(jsonb, text[]) to authenticated, service_role;
