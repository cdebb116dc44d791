-- KEDA's read-only role may see three columns of River's job table, which
-- is all its queries (components/keda) read: never args, errors or
-- metadata. count(*) needs SELECT on one column at least. Run once after
-- the first `worker migrate` (river_job exists from then on), as the
-- database owner or a superuser; TestKEDAQueries runs this very file.
GRANT SELECT (state, queue, scheduled_at) ON river_job TO leadorch_keda;
