-- Provider events about our messages (SendGrid's event webhook today). An
-- interrupted email send is confirmed by its "processed" event; bounces,
-- spam reports and unsubscribes suppress the address.
CREATE TABLE message_events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    message_id   uuid NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    provider     text NOT NULL,
    event        text NOT NULL,
    provider_message_id text NOT NULL DEFAULT '',
    reason       text NOT NULL DEFAULT '',
    occurred_at  timestamptz NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    -- Providers redeliver events (SendGrid's sg_event_id is not stable
    -- across redeliveries), so a repeat of the same event at the same time is
    -- the same event.
    UNIQUE (tenant_id, message_id, event, occurred_at)
);

CREATE INDEX message_events_processed_idx ON message_events (received_at) WHERE event = 'processed';

-- A run cut short by a worker's shutdown is "interrupted": River hands the
-- job back without spending an attempt.
ALTER TABLE job_executions DROP CONSTRAINT job_executions_outcome_check;
ALTER TABLE job_executions ADD CONSTRAINT job_executions_outcome_check
    CHECK (outcome IN ('completed', 'error', 'panic', 'cancelled', 'snoozed', 'timeout', 'interrupted', 'abandoned'));

-- What was wrong with a lead's contact details in the CRM (a phone number
-- that is not one, say). The lead is kept and reached on what is valid.
ALTER TABLE leads ADD COLUMN contact_problem text NOT NULL DEFAULT '';
