-- Each tenant's budget of CRM webhook deliveries, shared by every replica:
-- a token bucket refilled at webhooks.intake_per_minute (see
-- store.TakeWebhookIntake). One shop's webhook credential, or anyone who saw
-- its Tekmetric URL, could otherwise insert live ingest jobs without limit
-- and push every other shop's leads back in the crm queue. Same shape as
-- crm_rate_limits (migration 3).
CREATE TABLE webhook_intake_limits (
    tenant_id   uuid PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    tokens      double precision NOT NULL,
    refilled_at timestamptz NOT NULL,
    -- How many tokens the last take got (read back by the same statement).
    taken       integer NOT NULL
);

ALTER TABLE webhook_intake_limits ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON webhook_intake_limits
    USING (tenant_id = nullif(current_setting('leadorch.tenant_id', true), '')::uuid);
