-- The free tier every new user starts on, and the anonymous tier of
-- Supabase's anonymous sign-ins: a small quota and small limits on what they
-- write, until they link an identity. Other tiers are rows that service_role
-- adds; an existing row is never overwritten from here.
insert into public.quota_tiers
  (id, name, description, monthly_token_limit, monthly_cost_limit_usd, daily_request_limit, soft_limit_percent, is_default)
values
  ('free', 'Free', 'Free tier for every new account', 1000000, 5.0000, 500, 80, true)
on conflict (id) do nothing;

insert into public.quota_tiers
  (id, name, description, monthly_token_limit, monthly_cost_limit_usd, daily_request_limit, soft_limit_percent,
   is_default, is_anonymous_default, max_active_sessions, max_sessions_per_day, max_messages_per_session,
   max_message_chars, max_parts_bytes, max_metadata_bytes, max_tool_calls_per_message)
values
  ('anonymous', 'Anonymous', 'Anonymous sign-ins, until they link an email or phone', 20000, 0.1000, 20, 80,
   false, true, 3, 20, 200, 20000, 65536, 2048, 32)
on conflict (id) do nothing;

-- The tier of new organisations: a shared budget for a small team, and
-- per-minute limits that keep one runaway agent from spending it all at once.
insert into public.quota_tiers
  (id, name, description, monthly_token_limit, monthly_cost_limit_usd, daily_request_limit, soft_limit_percent,
   requests_per_minute, tokens_per_minute)
values
  ('team', 'Team', 'Organisations: a shared monthly budget', 50000000, 250.0000, 50000, 80, 600, 2000000)
on conflict (id) do nothing;
