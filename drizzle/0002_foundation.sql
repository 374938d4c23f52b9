-- Foundation: the updated_at rule and the reference data every install starts with.

-- updated_at is the database's to set: whatever a writer sends, it becomes now().
create or replace function private.set_updated_at()
returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end;
$$;
--> statement-breakpoint
revoke execute on function private.set_updated_at() from public;
--> statement-breakpoint
create trigger profiles_set_updated_at before update on public.profiles
  for each row execute function private.set_updated_at();
--> statement-breakpoint
create trigger agent_sessions_set_updated_at before update on public.agent_sessions
  for each row execute function private.set_updated_at();
--> statement-breakpoint
create trigger quota_tiers_set_updated_at before update on public.quota_tiers
  for each row execute function private.set_updated_at();
--> statement-breakpoint
create trigger user_quotas_set_updated_at before update on public.user_quotas
  for each row execute function private.set_updated_at();
--> statement-breakpoint
create trigger ai_providers_set_updated_at before update on public.ai_providers
  for each row execute function private.set_updated_at();
--> statement-breakpoint
-- Providers Witchcraft talks to today. More are rows, not migrations.
insert into public.ai_providers (id, display_name, is_local) values
  ('openai', 'OpenAI', false),
  ('anthropic', 'Anthropic', false),
  ('google', 'Google', false),
  ('openrouter', 'OpenRouter', false),
  ('mistral', 'Mistral', false),
  ('ollama', 'Ollama', true),
  ('lmstudio', 'LM Studio', true)
on conflict (id) do nothing;
--> statement-breakpoint
-- The free tier every new user starts on.
insert into public.quota_tiers
  (id, name, description, monthly_token_limit, monthly_cost_limit_usd, daily_request_limit, soft_limit_percent, is_default)
values
  ('free', 'Free', 'Free tier for every new account', 1000000, 5.0000, 500, 80, true)
on conflict (id) do nothing;
