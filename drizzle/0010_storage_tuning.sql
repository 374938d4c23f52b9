-- Room on each page for updated row versions: the rows the hot path updates
-- on every request (daily totals, session figures, quotas, reservations) can
-- then be updated in place (HOT), without touching their indexes.
alter table public.ai_usage_daily set (fillfactor = 80);
--> statement-breakpoint
alter table public.agent_sessions set (fillfactor = 80);
--> statement-breakpoint
alter table public.user_quotas set (fillfactor = 80);
--> statement-breakpoint
alter table public.quota_reservations set (fillfactor = 90);
