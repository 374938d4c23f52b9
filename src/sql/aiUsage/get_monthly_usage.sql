-- A user's usage in one calendar month (UTC), per provider, model and mode,
-- from the daily totals. Runs with the caller's rights: users see their own
-- (admins everyone's), as RLS on ai_usage_daily decides.

create or replace function public.get_monthly_usage(p_user_id uuid default auth.uid(), p_month date default null)
returns table (
  provider text, model text, agent_mode public.agent_mode,
  request_count bigint, success_count bigint, error_count bigint, cancelled_count bigint, unpriced_count bigint,
  input_tokens bigint, output_tokens bigint, cached_input_tokens bigint, cache_write_tokens bigint,
  reasoning_tokens bigint, total_tokens bigint, cost_usd numeric,
  cache_write_1h_tokens bigint, web_search_requests bigint, tool_requests bigint, byok_cost_usd numeric)
language plpgsql
stable
set search_path = pg_catalog, pg_temp
security invoker
as $$
declare
  v_from timestamptz := date_trunc('month', coalesce(p_month, (now() at time zone 'UTC')::date)::timestamp) at time zone 'UTC';
begin
  return query
  select d.provider, d.model, d.agent_mode,
    sum(d.request_count)::bigint, sum(d.success_count)::bigint, sum(d.error_count)::bigint,
    sum(d.cancelled_count)::bigint, sum(d.unpriced_count)::bigint,
    sum(d.input_tokens)::bigint, sum(d.output_tokens)::bigint, sum(d.cached_input_tokens)::bigint,
    sum(d.cache_write_tokens)::bigint, sum(d.reasoning_tokens)::bigint, sum(d.total_tokens)::bigint,
    sum(d.cost_usd), sum(d.cache_write_1h_tokens)::bigint, sum(d.web_search_requests)::bigint,
    sum(d.tool_requests)::bigint, sum(d.byok_cost_usd)
  from public.ai_usage_daily d
  where d.user_id = p_user_id
    and d.date >= v_from
    and d.date < ((v_from at time zone 'UTC') + interval '1 month') at time zone 'UTC'
  group by d.provider, d.model, d.agent_mode
  order by d.provider, d.model, d.agent_mode;
end;
$$;

comment on function public.get_monthly_usage(uuid, date) is
  'A user''s usage in one calendar month (UTC) per provider, model and agent mode, from the daily totals. Caller''s rights (RLS).';

revoke all on function public.get_monthly_usage(uuid, date) from public, anon, authenticated, service_role;

grant execute on function public.get_monthly_usage(uuid, date) to authenticated, service_role;
