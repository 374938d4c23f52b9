-- The free tier every new user starts on. Other tiers are rows that
-- service_role adds; an existing row is never overwritten from here.
insert into public.quota_tiers
  (id, name, description, monthly_token_limit, monthly_cost_limit_usd, daily_request_limit, soft_limit_percent, is_default)
values
  ('free', 'Free', 'Free tier for every new account', 1000000, 5.0000, 500, 80, true)
on conflict (id) do nothing;
