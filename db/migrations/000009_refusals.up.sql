-- What a shop's CRM refused: records ingest could not use (so overlapping
-- polls stop re-ingesting them), and credentials the CRM rejected (so the
-- shop is flagged for an operator and its polls back off).

ALTER TABLE tenants
    -- The CRM rejected the tenant's credentials (401/403): an operator must
    -- act. Set by the job that was refused, cleared by a poll that succeeds
    -- or by a change of the CRM secret or connection settings.
    ADD COLUMN needs_attention boolean NOT NULL DEFAULT false,
    -- The CRM's answer, as the adapter reported it (never a secret).
    ADD COLUMN attention_reason text NOT NULL DEFAULT '',
    -- When the refusals began; polls back off by the time since (at most an
    -- hour between polls).
    ADD COLUMN attention_since timestamptz;

-- The last version of a CRM record that ingest refused as bad input (a
-- missing field, a customer that does not exist), with why. A poll inserts
-- no ingest for a version refused here: River's uniqueness does not cover
-- cancelled jobs, so every overlapping poll re-ingested it (6-7 cancelled
-- ingests per bad record in 35 s, each fetching the order, customer and
-- vehicle again). A new version of the record is tried again.
CREATE TABLE refused_records (
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    external_id text NOT NULL,
    version     bigint NOT NULL,
    reason      text NOT NULL,
    refused_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, external_id)
);

ALTER TABLE refused_records ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON refused_records
    USING (tenant_id = nullif(current_setting('leadorch.tenant_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE, DELETE ON refused_records TO leadorch_app;
