-- The event log by month: ai_usage_events is partitioned by range of
-- occurred_at, one partition per UTC month in schema `partitions`
-- (ai_usage_events_2026_12), plus a default partition for anything no month
-- holds yet. Drizzle declares the table (src/schema/aiUsage.ts); the
-- partitioning is here, because Drizzle cannot say it.
--
-- Partitions are made ahead of time by run_maintenance(), never on the hot
-- path: from the oldest month a request may still be recorded in (the
-- backdating limit) to {{limits.usagePartitionsAhead}} months ahead. A row
-- in the default partition means maintenance fell behind; the next run moves
-- it into its month. Retention drops whole months: constant time, whatever
-- a month holds, and the daily totals stay.
--
-- A database that had the log before it was partitioned keeps its old table
-- as one partition, ai_usage_events_legacy, for everything up to the end of
-- the month it was converted in (README, "Partitions and maintenance"): no
-- row is copied, and retention drops it as a whole once all of it is old
-- enough.

-- The upper bound of one partition of ai_usage_events (null for the default).
create or replace function private.usage_partition_upper(p_partition regclass)
returns timestamptz
language sql
stable
set search_path = pg_catalog, pg_temp
security invoker
as $$
  select (regexp_match(pg_get_expr(c.relpartbound, c.oid), $re$TO \('([^']+)'\)$re$))[1]::timestamptz
  from pg_class c
  where c.oid = p_partition;
$$;

comment on function private.usage_partition_upper(regclass) is
  'The exclusive upper bound of a partition of ai_usage_events (null for the default partition).';

revoke all on function private.usage_partition_upper(regclass) from public, anon, authenticated, service_role;

-- The partition of one month; true when it was made now. Rows of that month
-- in the default partition (strays) move into it. A month that the legacy
-- partition covers is left to it.
create or replace function private.create_usage_partition(p_month timestamptz)
returns boolean
language plpgsql
-- Creating a partition locks the log for a moment: never queue behind a long
-- query (and make every insert queue behind us); the next run tries again.
set lock_timeout = '5s'
set search_path = pg_catalog, pg_temp
security definer
as $$
declare
  v_from timestamptz := date_trunc('month', p_month, 'UTC');
  v_to timestamptz := date_trunc('month', p_month, 'UTC') + interval '1 month';
  v_name text := 'ai_usage_events_' || to_char(date_trunc('month', p_month, 'UTC') at time zone 'UTC', 'YYYY_MM');
  v_strays boolean;
  v_columns text;
begin
  if p_month is null or not isfinite(p_month) then
    perform private.bad_input('month', 'must be a finite time');
  end if;
  if to_regclass('partitions.' || v_name) is not null then
    return false;
  end if;
  -- The legacy partition, where there is one, holds everything before its
  -- upper bound.
  if private.usage_partition_upper(to_regclass('partitions.ai_usage_events_legacy')) > v_from then
    return false;
  end if;

  select exists (select 1 from partitions.ai_usage_events_default d where d.occurred_at >= v_from and d.occurred_at < v_to)
    into v_strays;
  if not v_strays then
    execute format('create table partitions.%I partition of public.ai_usage_events for values from (%L) to (%L)', v_name, v_from, v_to);
  else
    -- The default partition may not hold rows of a month that gets its own
    -- partition: take it out, make the month, move its rows (ids, times and
    -- keys unchanged), put it back.
    select string_agg(quote_ident(a.attname), ', ' order by a.attnum) into v_columns
    from pg_attribute a
    where a.attrelid = 'public.ai_usage_events'::regclass and a.attnum > 0 and not a.attisdropped and a.attgenerated = '';
    alter table public.ai_usage_events detach partition partitions.ai_usage_events_default;
    execute format('create table partitions.%I partition of public.ai_usage_events for values from (%L) to (%L)', v_name, v_from, v_to);
    execute format('insert into public.ai_usage_events (%s) overriding system value select %s from partitions.ai_usage_events_default d where d.occurred_at >= $1 and d.occurred_at < $2',
      v_columns, v_columns) using v_from, v_to;
    delete from partitions.ai_usage_events_default d where d.occurred_at >= v_from and d.occurred_at < v_to;
    alter table public.ai_usage_events attach partition partitions.ai_usage_events_default default;
  end if;
  -- A partition read directly would skip the log's policies: no role but
  -- the owner has any privilege on it, and row security is on as well.
  execute format('alter table partitions.%I enable row level security', v_name);
  return true;
end;
$$;

comment on function private.create_usage_partition(timestamptz) is
  'Makes the ai_usage_events partition of the month of the given time (moving that month''s strays out of the default partition); true when it made one.';

revoke all on function private.create_usage_partition(timestamptz) from public, anon, authenticated, service_role;

-- Every month a request may be recorded in now, and the months ahead:
-- returns how many partitions it made. Then the strays of months further
-- away, if any, get their months too.
create or replace function private.ensure_usage_partitions()
returns integer
language plpgsql
set search_path = pg_catalog, pg_temp
security definer
as $$
declare
  v_made integer := 0;
  v_month timestamptz;
begin
  for v_month in
    select generate_series(
      date_trunc('month', now() - interval '{{limits.idempotencyWindowDays}} days', 'UTC'),
      date_trunc('month', now(), 'UTC') + interval '{{limits.usagePartitionsAhead}} months',
      interval '1 month')
    union
    select distinct date_trunc('month', d.occurred_at, 'UTC') from partitions.ai_usage_events_default d
    order by 1
  loop
    if private.create_usage_partition(v_month) then
      v_made := v_made + 1;
    end if;
  end loop;
  return v_made;
end;
$$;

comment on function private.ensure_usage_partitions() is
  'Makes the ai_usage_events partitions from the oldest month a request may be recorded in to the months ahead, and the months of any strays in the default partition; returns how many it made.';

revoke all on function private.ensure_usage_partitions() from public, anon, authenticated, service_role;

-- Retention of whole months: drops every partition whose months all lie
-- more than p_older_than in the past, and returns their names. Dropping a
-- partition is a catalog change (no WAL per row, nothing left to vacuum) and
-- the release of its files at commit, which only the file system's work
-- makes longer for a bigger month. The daily totals are separate rows and
-- stay.
create or replace function private.drop_usage_partitions(p_older_than interval)
returns text[]
language plpgsql
set lock_timeout = '5s'
set search_path = pg_catalog, pg_temp
security definer
as $$
declare
  v_dropped text[] := '{}';
  v_partition regclass;
begin
  if p_older_than is null or p_older_than < interval '{{limits.usageRetentionMinDays}} days' then
    perform private.bad_input('older_than', 'must be at least {{limits.usageRetentionMinDays}} days (the idempotency window and the longest backdating)');
  end if;
  for v_partition in
    select i.inhrelid::regclass
    from pg_inherits i
    where i.inhparent = 'public.ai_usage_events'::regclass
      and private.usage_partition_upper(i.inhrelid::regclass) <= now() - p_older_than
    order by private.usage_partition_upper(i.inhrelid::regclass)
  loop
    v_dropped := v_dropped || v_partition::text;
    execute format('drop table %s', v_partition);
  end loop;
  return v_dropped;
end;
$$;

comment on function private.drop_usage_partitions(interval) is
  'Retention by month: drops the ai_usage_events partitions wholly older than the given age (at least the idempotency window and the backdating limit); returns their names.';

revoke all on function private.drop_usage_partitions(interval) from public, anon, authenticated, service_role;

-- From the table ai_usage_events was before (migration 0031) to the
-- partitioned log: the old table becomes the legacy partition (or goes, when
-- empty), the new table gets the same columns, constraints, indexes, policies
-- and comment. Nothing is copied: it is a catalog change plus one check of
-- the old rows' times (and a copy of the keys still in the idempotency
-- window). Does nothing on a partitioned log.
create or replace function private.partition_usage_events()
returns text
language plpgsql
set search_path = pg_catalog, pg_temp
security invoker
as $$
declare
  v_count bigint;
  v_last bigint;
  v_upper timestamptz;
  v_statement text;
  r record;
begin
  if (select c.relkind from pg_class c where c.oid = 'public.ai_usage_events'::regclass) = 'p' then
    return 'ai_usage_events is partitioned already';
  end if;
  lock table public.ai_usage_events in access exclusive mode;

  -- The idempotency keys of the window move to their own table first.
  insert into public.ai_usage_event_keys (user_id, idempotency_key, event_id, occurred_at, created_at)
  select e.user_id, e.idempotency_key, e.id, e.occurred_at, e.created_at
  from public.ai_usage_events e
  where e.created_at >= now() - interval '{{limits.idempotencyWindowDays}} days'
  on conflict do nothing;

  -- The old table steps aside with its indexes, constraints and sequence.
  alter table public.ai_usage_events set schema partitions;
  alter table partitions.ai_usage_events rename to ai_usage_events_legacy;
  revoke all on table partitions.ai_usage_events_legacy from public, anon, authenticated, service_role;

  -- The log: same columns in the same order, defaults, generated column,
  -- identity (its sequence carries on where the old one stopped) and comments.
  create table public.ai_usage_events (
    like partitions.ai_usage_events_legacy including defaults including generated including identity including comments including storage)
    partition by range (occurred_at);
  v_last := pg_sequence_last_value('partitions.ai_usage_events_id_seq'::regclass);
  if v_last is not null then
    perform setval(pg_get_serial_sequence('public.ai_usage_events', 'id'), v_last);
  end if;
  execute format('comment on table public.ai_usage_events is %L',
    obj_description('partitions.ai_usage_events_legacy'::regclass, 'pg_class'));

  for r in
    select c.conname, pg_get_constraintdef(c.oid) as def
    from pg_constraint c
    where c.conrelid = 'partitions.ai_usage_events_legacy'::regclass and c.contype in ('p', 'u', 'c', 'f')
    order by c.contype = 'f', c.conname
  loop
    execute format('alter table public.ai_usage_events add constraint %I %s', r.conname, r.def);
  end loop;
  for r in
    select pg_get_indexdef(i.indexrelid) as def
    from pg_index i
    where i.indrelid = 'partitions.ai_usage_events_legacy'::regclass
      and not exists (select 1 from pg_constraint c where c.conindid = i.indexrelid)
  loop
    v_statement := replace(r.def, ' ON partitions.ai_usage_events_legacy ', ' ON public.ai_usage_events ');
    if v_statement = r.def then
      raise exception 'partition_usage_events: cannot place index %', r.def;
    end if;
    execute v_statement;
  end loop;

  alter table public.ai_usage_events enable row level security;
  for r in
    select p.policyname, p.permissive, p.cmd, p.qual, p.with_check,
           (select string_agg(case when role = 'public' then 'public' else quote_ident(role) end, ', ') from unnest(p.roles) role) as roles
    from pg_policies p
    where p.schemaname = 'partitions' and p.tablename = 'ai_usage_events_legacy'
  loop
    execute format('create policy %I on public.ai_usage_events as %s for %s to %s%s%s',
      r.policyname, r.permissive, r.cmd, r.roles,
      case when r.qual is not null then format(' using (%s)', r.qual) else '' end,
      case when r.with_check is not null then format(' with check (%s)', r.with_check) else '' end);
    execute format('drop policy %I on partitions.ai_usage_events_legacy', r.policyname);
  end loop;

  create table partitions.ai_usage_events_default partition of public.ai_usage_events default;
  alter table partitions.ai_usage_events_default enable row level security;

  select count(*) into v_count from (select 1 from partitions.ai_usage_events_legacy limit 1) x;
  if v_count = 0 then
    drop table partitions.ai_usage_events_legacy;
  else
    -- Everything the old table holds, and what comes until the end of this
    -- month: the months after it get partitions of their own.
    select date_trunc('month', greatest(max(l.occurred_at), now()), 'UTC') + interval '1 month' into v_upper
    from partitions.ai_usage_events_legacy l;
    alter table partitions.ai_usage_events_legacy alter column id drop identity;
    execute format('alter table public.ai_usage_events attach partition partitions.ai_usage_events_legacy for values from (minvalue) to (%L)', v_upper);
    alter table partitions.ai_usage_events_legacy enable row level security;
  end if;
  perform private.ensure_usage_partitions();
  return case when v_upper is null then 'ai_usage_events is partitioned by month'
    else format('ai_usage_events is partitioned by month; the rows before %s are in partitions.ai_usage_events_legacy', v_upper) end;
end;
$$;

comment on function private.partition_usage_events() is
  'Turns the unpartitioned ai_usage_events into the month-partitioned log (the old table becoming its legacy partition); does nothing when it is partitioned.';

revoke all on function private.partition_usage_events() from public, anon, authenticated, service_role;

do $$
begin
  raise notice '%', private.partition_usage_events();
end;
$$;
