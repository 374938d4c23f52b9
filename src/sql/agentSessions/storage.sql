-- Room on each page for updated row versions: every message and every
-- recorded request rewrites its session row, and with free space on the page
-- that update stays in place (HOT).
alter table public.agent_sessions set (fillfactor = 80);
