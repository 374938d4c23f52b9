-- Room on each page for updated row versions: every recorded request adds to
-- a daily total, and with free space on the page that update stays in place
-- (HOT) without touching the primary key.
alter table public.ai_usage_daily set (fillfactor = 80);
