-- Usage through the API: users read their own (src/policies/aiUsage.ts),
-- admins everyone's. The log and its totals are written only by the
-- accounting functions (record_usage, record_adjustment, purge_usage_events),
-- with their owner's rights: no API role, service_role included, inserts,
-- updates or deletes an event or a daily total. Prices and providers are
-- service_role's. Identity columns need no privilege on their sequences, and
-- nobody may move one (setval).
revoke all on table public.ai_providers from public, anon, authenticated, service_role;

grant select on table public.ai_providers to authenticated;

grant select, insert, update, delete on table public.ai_providers to service_role;

revoke all on table public.model_prices from public, anon, authenticated, service_role;

grant select on table public.model_prices to authenticated;

grant select, insert, update, delete on table public.model_prices to service_role;

revoke all on sequence public.model_prices_id_seq from public, anon, authenticated, service_role;

revoke all on table public.ai_usage_events from public, anon, authenticated, service_role;

grant select on table public.ai_usage_events to authenticated;

grant select on table public.ai_usage_events to service_role;

revoke all on sequence public.ai_usage_events_id_seq from public, anon, authenticated, service_role;

-- The idempotency keys: users read their own, as their events; written
-- only with the events.
revoke all on table public.ai_usage_event_keys from public, anon, authenticated, service_role;

grant select on table public.ai_usage_event_keys to authenticated, service_role;

revoke all on table public.ai_usage_daily from public, anon, authenticated, service_role;

grant select on table public.ai_usage_daily to authenticated, service_role;

-- Monthly figures over the daily totals, with the caller's rights.
revoke all on table public.ai_usage_monthly from public, anon, authenticated, service_role;

grant select on table public.ai_usage_monthly to authenticated, service_role;
