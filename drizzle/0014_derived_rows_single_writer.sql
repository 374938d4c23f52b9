-- Daily totals and quota reservations are derived rows: a daily total is the
-- sum of its events, a reservation's life is reserve, then settle, release or
-- expire. From here on only the functions that keep them write them, and no
-- API role does, service_role included: the backend's key can no longer
-- forge a total or reopen a reservation, and the rows hold their rules
-- because those functions build them from validated input (figures are sums
-- of non-negative validated amounts; days are UTC midnights; buckets 0-7).
-- The writing functions run with their owner's rights (SECURITY DEFINER,
-- empty search_path, EXECUTE for service_role only, as before).
revoke insert, update, delete on public.ai_usage_daily, public.quota_reservations from service_role;
--> statement-breakpoint
alter function public.record_usage(uuid, text, text, text, public.agent_mode, bigint, bigint, bigint, bigint, bigint,
  public.usage_status, numeric, integer, uuid, bigint, uuid, text, timestamptz) security definer;
--> statement-breakpoint
alter function public.reserve_quota(uuid, text, bigint, numeric, interval) security definer;
--> statement-breakpoint
alter function public.release_quota(uuid, uuid) security definer;
--> statement-breakpoint
alter function public.expire_quota_reservations() security definer;
