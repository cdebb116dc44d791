-- Follow-up that a shop can trust: sequences, sending windows, consent,
-- opt-out, replies, bookings and signed webhooks.

ALTER TABLE tenants
    -- A stricter sending-window rule on top of quiet_hours_*: '' (federal),
    -- or a state code (FL, OK, MD, CT, TX).
    ADD COLUMN quiet_rule text NOT NULL DEFAULT '',
    -- The tenant's follow-up steps; NULL means the default sequence.
    ADD COLUMN sequence jsonb,
    -- Whether the first answer to an inquiry the customer started needs
    -- their marketing consent too (the safe default: yes).
    ADD COLUMN first_reply_needs_consent boolean NOT NULL DEFAULT true,
    -- Where the shop hears of a customer's reply; empty: nowhere.
    ADD COLUMN notify_email text NOT NULL DEFAULT '',
    -- The answer to HELP; empty means a fleet default naming the shop.
    ADD COLUMN help_text text NOT NULL DEFAULT '',
    -- ShopMonkey's webhook signing secret (Standard Webhooks), sealed like
    -- the CRM secret, with the id of its key.
    ADD COLUMN webhook_secret_sealed bytea,
    ADD COLUMN webhook_secret_key_id text NOT NULL DEFAULT '',
    -- SHA-256 of the token in the tenant's Tekmetric webhook URL: only a
    -- hash is needed to check it, so only a hash is kept.
    ADD COLUMN webhook_token_sha256 bytea;

-- Replies and keywords the customers texted, once per provider message.
CREATE TABLE inbound_messages (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    provider_id text NOT NULL,
    lead_id     uuid,
    from_address text NOT NULL,
    to_address  text NOT NULL,
    body        text NOT NULL,
    -- stop, start, help or reply.
    kind        text NOT NULL CHECK (kind IN ('stop', 'start', 'help', 'reply')),
    received_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, provider_id),
    FOREIGN KEY (tenant_id, lead_id) REFERENCES leads (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX inbound_messages_lead_idx ON inbound_messages (tenant_id, lead_id);

-- Webhook deliveries already taken, so a provider's redelivery (same
-- webhook-id) enqueues nothing twice.
CREATE TABLE webhook_receipts (
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    source      text NOT NULL,
    delivery_id text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, source, delivery_id)
);

-- When the customer first replied; kept even if the lead later opts out and
-- back in, so "only if no reply" steps stay stopped.
ALTER TABLE leads ADD COLUMN replied_at timestamptz;

-- Leads are found by phone when a customer texts back.
CREATE INDEX leads_tenant_phone_idx ON leads (tenant_id, phone) WHERE phone <> '';

-- Delivery status from the provider's callbacks.
ALTER TABLE messages
    ADD COLUMN delivery_status text NOT NULL DEFAULT '',
    ADD COLUMN delivery_error_code integer NOT NULL DEFAULT 0;

ALTER TABLE inbound_messages ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON inbound_messages
    USING (tenant_id = nullif(current_setting('leadorch.tenant_id', true), '')::uuid);
ALTER TABLE webhook_receipts ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON webhook_receipts
    USING (tenant_id = nullif(current_setting('leadorch.tenant_id', true), '')::uuid);
