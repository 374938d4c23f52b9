-- Profile text is safe to render wherever it is shown: display names lose
-- control characters and the bidirectional overrides and isolates that can
-- reorder what surrounds them (U+202A-U+202E, U+2066-U+2069, and the marks
-- U+200E/U+200F), then their outer spaces; an empty result is no name.
-- Avatar URLs must be http(s) URLs without spaces or control characters
-- (anything else, javascript: and data: included, is refused). The sign-up
-- trigger's names from user metadata pass through the same cleaning.
create or replace function private.profiles_clean_text()
returns trigger
language plpgsql
set search_path = pg_catalog, pg_temp
security invoker
as $$
begin
  if new.display_name is not null then
    new.display_name := nullif(btrim(regexp_replace(new.display_name,
      '[\x01-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]', '', 'g')), '');
  end if;
  if new.avatar_url !~* '^https?://[^\s\x01-\x1f\x7f]+$' then
    perform private.bad_input('avatar_url', {{messages.avatarUrl}});
  end if;
  return new;
end;
$$;

comment on function private.profiles_clean_text() is
  'Trigger: removes control and bidirectional-override characters from display names; refuses avatar URLs that are not http(s).';

revoke all on function private.profiles_clean_text() from public, anon, authenticated, service_role;

create or replace trigger profiles_clean_text
  before insert or update of display_name, avatar_url on public.profiles
  for each row execute function private.profiles_clean_text();

-- Rows written before the rule: names are cleaned by the trigger above, and
-- an avatar that is not an http(s) URL is dropped.
update public.profiles set
  display_name = display_name,
  avatar_url = case when avatar_url ~* '^https?://[^\s\x01-\x1f\x7f]+$' then avatar_url end
where display_name ~ '[\x01-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]'
   or display_name <> btrim(display_name)
   or display_name = ''
   or avatar_url !~* '^https?://[^\s\x01-\x1f\x7f]+$';
