ALTER TABLE leads DROP COLUMN IF EXISTS contact_problem;
DELETE FROM job_executions WHERE outcome = 'interrupted';
ALTER TABLE job_executions DROP CONSTRAINT job_executions_outcome_check;
ALTER TABLE job_executions ADD CONSTRAINT job_executions_outcome_check
    CHECK (outcome IN ('completed', 'error', 'panic', 'cancelled', 'snoozed', 'timeout', 'abandoned'));
DROP TABLE IF EXISTS message_events;
