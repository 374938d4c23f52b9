-- Room on each page for updated row versions: every request of an
-- organisation adds to one of its daily rows and one of the member's, and
-- with free space on the page those updates stay in place (HOT), as for the
-- personal daily totals.
alter table public.organisation_usage_daily set (fillfactor = 80);

alter table public.organisation_member_usage_daily set (fillfactor = 80);
