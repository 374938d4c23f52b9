-- Everything periodic, in one call: run_maintenance(). Schedule it every
-- minute or few (pg_cron where the extension exists, a worker elsewhere:
-- README, "Partitions and maintenance"). Each step does a bounded amount of
-- work per run ({{limits.maintenanceBatch}} rows at most per purge), so a run
-- is short and a backlog drains over the following runs. Runs may overlap
-- and repeat: a run that finds another in progress returns at once, and
-- every step is right to run again. The audit log's purge
-- (purge_audit_log, opt-in) is the exception to the bound: it deletes all
-- it finds in one go.
--
-- What it does, and the database settings (ALTER DATABASE ... SET
-- witchcraft.x = ...) that tune it:
-- 1. ai_usage_events partitions: makes the months ahead, and moves strays out
--    of the default partition into months of their own.
-- 2. Expires reservations past their expiry.
-- 3. Closes sessions idle for witchcraft.session_idle_minutes (default
--    {{limits.sessionIdleMinutesDefault}}).
-- 4. Drops the event log's months older than witchcraft.usage_retention_days
--    (unset: events are kept; at least {{limits.usageRetentionMinDays}}).
-- 5. Purges idempotency keys older than the idempotency window
--    ({{limits.idempotencyWindowDays}} days), resolved reservations older
--    than witchcraft.reservation_retention_days (default
--    {{limits.reservationRetentionDaysDefault}}), rate-limit states that say
--    no more than a missing row, and notifications delivered or given up
--    more than witchcraft.notification_retention_days ago (default
--    {{limits.notificationRetentionDaysDefault}}).
-- 6. Purges the audit log older than witchcraft.audit_retention_days when
--    that is set (it is kept otherwise).
-- It returns what it did, as JSON.

-- A whole-number setting witchcraft.<name>: its value, p_default when unset,
-- an error naming it when it is not a whole number of at least p_min.
create or replace function private.maintenance_setting(p_name text, p_default integer, p_min integer)
returns integer
language plpgsql
stable
set search_path = pg_catalog, pg_temp
security invoker
as $$
declare
  v_value text := nullif(btrim(current_setting('witchcraft.' || p_name, true)), '');
begin
  if v_value is null then
    return p_default;
  end if;
  if v_value !~ '^[0-9]{1,7}$' or v_value::integer < p_min then
    perform private.bad_input('witchcraft.' || p_name, format('must be a whole number of at least %s, not %L', p_min, v_value));
  end if;
  return v_value::integer;
end;
$$;

comment on function private.maintenance_setting(text, integer, integer) is
  'Reads the whole-number database setting witchcraft.<name> for run_maintenance (a default when unset, an error naming it when invalid).';

revoke all on function private.maintenance_setting(text, integer, integer) from public, anon, authenticated, service_role;

-- The smallest version-7 UUID of a time: reservations made before it have
-- smaller ids (their ids are time-ordered).
create or replace function private.uuid_v7_floor(p_at timestamptz)
returns uuid
language sql
immutable
set search_path = pg_catalog, pg_temp
security invoker
as $$
  select (lpad(to_hex(floor(extract(epoch from p_at) * 1000)::bigint), 12, '0') || '00000000000000000000')::uuid
$$;

comment on function private.uuid_v7_floor(timestamptz) is
  'The smallest time-ordered UUID (version 7) of the given time.';

revoke all on function private.uuid_v7_floor(timestamptz) from public, anon, authenticated, service_role;

create or replace function public.run_maintenance()
returns jsonb
language plpgsql
set search_path = pg_catalog, pg_temp
security definer
as $$
declare
  v_idle integer := private.maintenance_setting('session_idle_minutes', {{limits.sessionIdleMinutesDefault}}, 1);
  v_usage_days integer := private.maintenance_setting('usage_retention_days', null, {{limits.usageRetentionMinDays}});
  v_reservation_days integer := private.maintenance_setting('reservation_retention_days', {{limits.reservationRetentionDaysDefault}}, 1);
  v_notification_days integer := private.maintenance_setting('notification_retention_days', {{limits.notificationRetentionDaysDefault}}, {{limits.notificationPurgeMinDays}});
  v_audit_days integer := private.maintenance_setting('audit_retention_days', null, 30);
  v_made integer;
  v_expired integer;
  v_closed integer;
  v_dropped text[] := '{}';
  v_keys integer;
  v_reservations integer;
  v_states integer;
  v_notifications integer;
  v_audit integer;
  v_strays bigint;
begin
  -- One run at a time, whoever calls: the second returns at once.
  if not pg_try_advisory_xact_lock(hashtextextended('witchcraft.run_maintenance', 0)) then
    return jsonb_build_object('skipped', 'another run_maintenance is in progress');
  end if;

  v_made := private.ensure_usage_partitions();
  select count(*) into v_strays from partitions.ai_usage_events_default;
  v_expired := public.expire_quota_reservations();
  v_closed := public.close_idle_sessions(make_interval(mins => v_idle));
  if v_usage_days is not null then
    v_dropped := private.drop_usage_partitions(make_interval(days => v_usage_days));
  end if;

  delete from public.ai_usage_event_keys k
  where (k.user_id, k.idempotency_key) in (
    select x.user_id, x.idempotency_key from public.ai_usage_event_keys x
    where x.created_at < now() - interval '{{limits.idempotencyWindowDays}} days'
    limit {{limits.maintenanceBatch}});
  get diagnostics v_keys = row_count;

  -- Resolved reservations: the event of a settled one keeps its id (no
  -- foreign key), so they go without touching the log. Ids are time-ordered:
  -- the primary key finds the old ones.
  delete from public.quota_reservations r
  where r.id in (
    select x.id from public.quota_reservations x
    where x.id < private.uuid_v7_floor(now() - make_interval(days => v_reservation_days))
      and x.status <> 'active' and x.resolved_at < now() - make_interval(days => v_reservation_days)
    limit {{limits.maintenanceBatch}});
  get diagnostics v_reservations = row_count;

  -- A state whose times have passed allows what no row allows: the full
  -- burst. A minute's margin keeps rows a request may be moving right now.
  delete from public.rate_limit_state s
  where s.subject_id in (
    select x.subject_id from public.rate_limit_state x
    where x.requests_at < now() - interval '1 minute' and x.tokens_at < now() - interval '1 minute'
    limit {{limits.maintenanceBatch}});
  get diagnostics v_states = row_count;

  v_notifications := public.purge_notifications(make_interval(days => v_notification_days), {{limits.maintenanceBatch}});
  if v_audit_days is not null then
    v_audit := public.purge_audit_log(make_interval(days => v_audit_days));
  end if;

  return jsonb_build_object(
    'partitions_made', v_made,
    'default_partition_rows', v_strays,
    'reservations_expired', v_expired,
    'sessions_closed', v_closed,
    'partitions_dropped', to_jsonb(v_dropped),
    'keys_purged', v_keys,
    'reservations_purged', v_reservations,
    'rate_limit_states_purged', v_states,
    'notifications_purged', v_notifications,
    'audit_entries_purged', v_audit);
end;
$$;

comment on function public.run_maintenance() is
  'Everything periodic in one call: event partitions ahead (and strays moved), reservations expired, idle sessions closed, retention of events, keys, reservations, rate-limit states, notifications and (when set) the audit log. Safe to run concurrently and repeatedly; returns what it did.';

revoke all on function public.run_maintenance() from public, anon, authenticated, service_role;

grant execute on function public.run_maintenance() to service_role;
