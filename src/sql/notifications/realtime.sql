-- Supabase Realtime: new quota notifications reach the signed-in client that
-- subscribed to inserts on public.quota_notifications (postgres_changes), with
-- the table's row level security and column grants applied per subscriber.
-- Every Supabase project has the publication; a database without it (plain
-- PostgreSQL) is left as it is, and one that publishes all tables already
-- holds the table.
do $$
begin
  if exists (select from pg_catalog.pg_publication p where p.pubname = 'supabase_realtime' and not p.puballtables)
     and not exists (
       select from pg_catalog.pg_publication_rel r join pg_catalog.pg_publication p on p.oid = r.prpubid
       where p.pubname = 'supabase_realtime' and r.prrelid = 'public.quota_notifications'::pg_catalog.regclass) then
    alter publication supabase_realtime add table public.quota_notifications;
  end if;
end;
$$;
