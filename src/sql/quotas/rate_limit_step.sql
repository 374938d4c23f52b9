-- One step of a subject's per-minute limits (GCRA): the state after a
-- request of p_tokens estimated tokens at p_now, or a refusal. Each limit
-- keeps the theoretical time at which the subject's use would be back to
-- nothing; a request moves it on by its share of a minute (1 / rpm for the
-- request, p_tokens / tpm for its tokens, rounded up to the microsecond), and
-- fits while that time is at most one minute ahead of now. The caller holds
-- the subject's lock and writes the state back only when the request is
-- granted.
--
-- Result: the new state (subject_id set), or a refusal (subject_id null)
-- with the time from which the request would fit in requests_at (refused by
-- requests per minute) or tokens_at (by tokens per minute); both null when
-- it never fits (more tokens than a minute's worth).

create or replace function private.rate_limit_step(p_subject uuid, p_rpm integer, p_tpm bigint, p_tokens bigint, p_now timestamptz)
returns public.rate_limit_state
language plpgsql
security definer
set search_path = pg_catalog, pg_temp
as $$
declare
  v public.rate_limit_state;
  v_requests_at timestamptz;
  v_tokens_at timestamptz;
begin
  select * into v from public.rate_limit_state s where s.subject_id = p_subject;
  v_requests_at := greatest(v.requests_at, p_now);
  v_tokens_at := greatest(v.tokens_at, p_now);
  if p_rpm is not null then
    v_requests_at := v_requests_at + make_interval(secs => ceil(60e6 / p_rpm) / 1e6);
    if v_requests_at - p_now > interval '1 minute' then
      v.subject_id := null; v.requests_at := v_requests_at - interval '1 minute'; v.tokens_at := null;
      return v;
    end if;
  end if;
  if p_tpm is not null then
    if p_tokens > p_tpm then
      v.subject_id := null; v.requests_at := null; v.tokens_at := null;
      return v;
    end if;
    v_tokens_at := v_tokens_at + make_interval(secs => ceil(p_tokens * 60e6 / p_tpm) / 1e6);
    if v_tokens_at - p_now > interval '1 minute' then
      v.subject_id := null; v.requests_at := null; v.tokens_at := v_tokens_at - interval '1 minute';
      return v;
    end if;
  end if;
  v.subject_id := p_subject; v.requests_at := v_requests_at; v.tokens_at := v_tokens_at;
  return v;
end;
$$;

comment on function private.rate_limit_step(uuid, integer, bigint, bigint, timestamptz) is
  'GCRA step of a subject''s per-minute limits: the state after the request, or a refusal with the time it would fit.';

revoke all on function private.rate_limit_step(uuid, integer, bigint, bigint, timestamptz) from public, anon, authenticated, service_role;

-- A tier's model pattern ('anthropic/claude-*') as a LIKE pattern: `*` is any
-- characters, and LIKE's own wildcards and escape stand for themselves.
create or replace function private.model_pattern_like(p_pattern text)
returns text
language sql
immutable
parallel safe
security invoker
set search_path = pg_catalog, pg_temp
return replace(replace(replace(replace(p_pattern, '\', '\\'), '%', '\%'), '_', '\_'), '*', '%');

comment on function private.model_pattern_like(text) is
  'A model pattern with * wildcards as a LIKE pattern.';

revoke all on function private.model_pattern_like(text) from public, anon, authenticated, service_role;
