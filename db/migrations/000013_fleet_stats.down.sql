DROP FUNCTION IF EXISTS leadorch_last_poll_schedule();
DROP FUNCTION IF EXISTS leadorch_fleet_tenants(timestamptz);
DROP FUNCTION IF EXISTS leadorch_fleet_outbox(timestamptz);
DROP INDEX IF EXISTS job_executions_schedule_polls_idx;
DROP INDEX IF EXISTS job_executions_live_poll_idx;
DROP INDEX IF EXISTS messages_failed_idx;
DROP INDEX IF EXISTS messages_open_idx;
