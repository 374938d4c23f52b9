-- Usage through the API: users read their own (src/policies/aiUsage.ts);
-- events come from record_usage, called by service_role; daily totals are
-- written only by record_usage; prices and providers by service_role.
revoke all on table public.ai_providers from public, anon, authenticated, service_role;

grant select on table public.ai_providers to authenticated;

grant select, insert, update, delete on table public.ai_providers to service_role;

revoke all on table public.model_prices from public, anon, authenticated, service_role;

grant select on table public.model_prices to authenticated;

grant select, insert, update, delete on table public.model_prices to service_role;

revoke all on sequence public.model_prices_id_seq from public, anon, authenticated, service_role;

grant all on sequence public.model_prices_id_seq to anon, authenticated, service_role;

revoke all on table public.ai_usage_events from public, anon, authenticated, service_role;

grant select on table public.ai_usage_events to authenticated;

grant select, insert, update, delete on table public.ai_usage_events to service_role;

revoke all on sequence public.ai_usage_events_id_seq from public, anon, authenticated, service_role;

grant all on sequence public.ai_usage_events_id_seq to anon, authenticated, service_role;

-- Derived rows: only record_usage writes them, with its owner's rights.
revoke all on table public.ai_usage_daily from public, anon, authenticated, service_role;

grant select on table public.ai_usage_daily to authenticated, service_role;

-- Monthly figures over the daily totals, with the caller's rights.
revoke all on table public.ai_usage_monthly from public, anon, authenticated, service_role;

grant all on table public.ai_usage_monthly to authenticated, service_role;
