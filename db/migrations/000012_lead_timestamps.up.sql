-- The timestamps behind the speed-to-lead figures (`enqueue report` and the
-- leadorch_speed_to_lead_* histograms): how we found each lead, when the
-- provider first accepted a message to it on each channel, when it opted
-- out and when it booked. replied_at is migration 4's.

ALTER TABLE leads
    -- How the lead was first seen: a CRM webhook, a live poll, a backfill,
    -- or an operator's `enqueue ingest`. Set by the ingest that inserts
    -- the row and never changed by a later one. Rows from before this
    -- migration cannot tell.
    ADD COLUMN found_via text NOT NULL DEFAULT 'unknown'
        CHECK (found_via IN ('webhook', 'poll', 'backfill', 'operator', 'unknown')),
    -- When the lead first moved to opted_out (the customer texted STOP);
    -- kept if they opt back in, so the report still counts the opt-out.
    ADD COLUMN opted_out_at timestamptz,
    -- When the lead first became booked (the CRM showed the booking).
    ADD COLUMN booked_at timestamptz;

-- The provider's first acceptance of a message to a lead, per channel:
-- written once, in the transaction that records the acceptance, and never
-- moved by a retry, a reconcile or a later step.
--
-- A table of its own rather than two columns on leads: the text and the
-- email of a new lead are accepted within milliseconds of each other, and
-- an UPDATE of the lead row in each recording transaction would make one
-- wait for the other's commit (the wait `make bench` measured at a third
-- of all statement time before MarkLeadContacted learned SKIP LOCKED,
-- 248 -> 270 leads/s). An insert here only takes the lead's KEY SHARE lock
-- for the foreign key, which no other writer of the lead waits on.
CREATE TABLE lead_first_messages (
    tenant_id   uuid NOT NULL,
    lead_id     uuid NOT NULL,
    channel     text NOT NULL CHECK (channel IN ('sms', 'email')),
    accepted_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, lead_id, channel),
    FOREIGN KEY (tenant_id, lead_id) REFERENCES leads (tenant_id, id) ON DELETE CASCADE
);

ALTER TABLE lead_first_messages ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON lead_first_messages
    USING (tenant_id = nullif(current_setting('leadorch.tenant_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE, DELETE ON lead_first_messages TO leadorch_app;

-- Leads sent before this migration: their first accepted message on each
-- channel is the earliest sent_at of the outbox rows the provider took.
INSERT INTO lead_first_messages (tenant_id, lead_id, channel, accepted_at)
SELECT tenant_id, lead_id, channel, min(sent_at) FROM messages
WHERE sent_at IS NOT NULL AND status IN ('sent', 'delivered')
GROUP BY tenant_id, lead_id, channel;
-- Leads already opted out or booked: their last change is the nearest
-- time there is.
UPDATE leads SET opted_out_at = updated_at WHERE status = 'opted_out';
UPDATE leads SET booked_at = updated_at WHERE status = 'booked';
