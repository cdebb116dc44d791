DROP INDEX IF EXISTS river_job_backfill_idx;
DROP FUNCTION IF EXISTS leadorch_index_river_job();
DROP TABLE IF EXISTS backfills;
