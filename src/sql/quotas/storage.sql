-- Room on each page for updated row versions: quotas are locked and
-- reservations settled on every request, and with free space on the page
-- those updates stay in place (HOT) without touching the indexes.
alter table public.user_quotas set (fillfactor = 80);

-- A settlement changes status, which the partial indexes' predicates name, so
-- it is never HOT (every settlement writes new primary key and key entries);
-- the room only lets the new version stay on the page, saving a page write.
alter table public.quota_reservations set (fillfactor = 90);

-- Eight rows per user, one of them rewritten by every request: room on the
-- page keeps those updates HOT (no index entry, pruned in place).
alter table public.quota_alert_headroom set (fillfactor = 50);
