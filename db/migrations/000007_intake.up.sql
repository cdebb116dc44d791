-- Customers' data stays in tenant tables. River's tables have no row-level
-- security, so job args carry only ids: a verified webhook's content is
-- stored here first, under its tenant's policy, in the transaction that
-- enqueues its job.

-- Texts are now stored by the webhook intake, before handle_inbound_message
-- runs; handled_at says the job acted on one. Rows stored before this
-- migration were written by the job that handled them.
ALTER TABLE inbound_messages ADD COLUMN handled_at timestamptz;
UPDATE inbound_messages SET handled_at = received_at;

-- One tenant's share of a verified SendGrid event batch, once per signed
-- delivery: a captured batch replayed within the signature's freshness
-- window finds its delivery_key taken and enqueues nothing.
CREATE TABLE email_event_batches (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    -- SHA-256 (hex) of what SendGrid signed, the timestamp header and the
    -- raw body: a replay cannot change either without failing the check,
    -- while the signature itself can be re-encoded and still verify.
    delivery_key text NOT NULL,
    -- The tenant's events (messaging.EmailEvent, JSON); emptied once
    -- record_email_event_batch applied them.
    events       jsonb NOT NULL,
    received_at  timestamptz NOT NULL DEFAULT now(),
    recorded_at  timestamptz,
    UNIQUE (tenant_id, delivery_key)
);
CREATE INDEX email_event_batches_received_idx ON email_event_batches (tenant_id, received_at);

ALTER TABLE email_event_batches ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON email_event_batches
    USING (tenant_id = nullif(current_setting('leadorch.tenant_id', true), '')::uuid);

-- Jobs already finished under the old args shapes keep customers' numbers,
-- addresses and texts in river_job until River's cleaner deletes them: take
-- them out now. Queued ones keep theirs: the worker still runs the old
-- kinds once. Errors recorded before masking (a send's "error sending sms
-- to +1...") are masked the way lead.MaskContacts writes them. On a new
-- database River's tables come after this migration; there is nothing to do.
DO $$
BEGIN
    IF to_regclass('river_job') IS NULL THEN
        RETURN;
    END IF;
    UPDATE river_job SET args = args - 'from' - 'to' - 'body'
    WHERE kind = 'handle_inbound' AND state IN ('completed', 'cancelled', 'discarded');
    UPDATE river_job SET args = args - 'events'
    WHERE kind = 'record_email_events' AND state IN ('completed', 'cancelled', 'discarded');
    UPDATE river_job SET errors = ARRAY(
        SELECT regexp_replace(regexp_replace(e::text,
            '(\+[1-9][0-9]{3})[0-9]{1,8}([0-9]{4})', '\1***\2', 'g'),
            '([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@', '\1***@', 'g')::jsonb
        FROM unnest(errors) AS e)
    WHERE errors IS NOT NULL AND state <> 'running';
    UPDATE river_job SET args = jsonb_set(args, '{error}', to_jsonb(regexp_replace(regexp_replace(args->>'error',
            '(\+[1-9][0-9]{3})[0-9]{1,8}([0-9]{4})', '\1***\2', 'g'),
            '([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@', '\1***@', 'g')))
    WHERE kind = 'record_job_execution' AND args ? 'error' AND state <> 'running';
END
$$;
