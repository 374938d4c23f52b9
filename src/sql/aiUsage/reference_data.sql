-- Providers Witchcraft talks to today. More are rows, not migrations; an
-- existing row is never overwritten from here.
insert into public.ai_providers (id, display_name, is_local) values
  ('openai', 'OpenAI', false),
  ('anthropic', 'Anthropic', false),
  ('google', 'Google', false),
  ('openrouter', 'OpenRouter', false),
  ('mistral', 'Mistral', false),
  ('deepseek', 'DeepSeek', false),
  ('ollama', 'Ollama', true),
  ('lmstudio', 'LM Studio', true)
on conflict (id) do nothing;
