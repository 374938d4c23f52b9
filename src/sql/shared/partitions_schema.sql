-- The `partitions` schema holds the partitions of partitioned tables (the
-- months of ai_usage_events). Queries go through the partitioned table in
-- `public`, where its policies apply; a partition read directly would skip
-- them, so no API role may even look a name up here.
create schema if not exists partitions;

revoke all on schema partitions from public, anon, authenticated, service_role;
