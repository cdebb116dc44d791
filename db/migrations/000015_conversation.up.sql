-- Issue 12: the conversation. Email replies reach us through SendGrid
-- Inbound Parse at per-lead reply addresses, the shop answers a customer
-- by replying to its notice, and a missed call to the shop's number
-- becomes a lead.

ALTER TABLE tenants
    -- The receiving domain of the shop's reply addresses
    -- (r+<token>@<reply_domain>), its MX pointed at SendGrid Inbound Parse;
    -- '' means the fleet's sendgrid.reply_domain. Without either, emails
    -- carry no reply address and email replies are not received.
    ADD COLUMN reply_domain text NOT NULL DEFAULT '',
    -- The shop's own phone, where a call to its Twilio number is forwarded
    -- (E.164); '' means calls are not answered by the orchestrator.
    ADD COLUMN shop_phone text NOT NULL DEFAULT '',
    -- The text a caller whose call was missed receives (a Go template like
    -- the others); '' means the default.
    ADD COLUMN missed_call_text text NOT NULL DEFAULT '';

-- A lead can be a missed call.
ALTER TABLE leads DROP CONSTRAINT leads_source_check;
ALTER TABLE leads ADD CONSTRAINT leads_source_check CHECK (source IN ('estimate', 'appointment', 'missed_call'));

-- Reply addresses: the unguessable token in r+<token>@<domain>, one per
-- lead and purpose. 'customer' is the Reply-To of every email to the
-- customer; 'shop' is the Reply-To of the shop's notices about the lead,
-- so the shop's answer is routed back to this lead's customer.
CREATE TABLE reply_addresses (
    token      text PRIMARY KEY CHECK (token ~ '^[a-z2-7]{26}$'),
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    lead_id    uuid NOT NULL,
    purpose    text NOT NULL CHECK (purpose IN ('customer', 'shop')),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, lead_id, purpose),
    FOREIGN KEY (tenant_id, lead_id) REFERENCES leads (tenant_id, id) ON DELETE CASCADE
);
ALTER TABLE reply_addresses ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON reply_addresses
    USING (tenant_id = nullif(current_setting('leadorch.tenant_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE, DELETE ON reply_addresses TO leadorch_app;

-- An email's Reply-To, fixed with its body when the outbox row is made:
-- the lead's customer reply address, or for a notice the shop's.
ALTER TABLE messages ADD COLUMN reply_to text NOT NULL DEFAULT '';

-- Resolves a reply address's token before any tenant is known (the Parse
-- webhook is one URL for every shop): the tenant, the lead and the
-- purpose; no row for an unknown token.
CREATE FUNCTION leadorch_reply_address(reply_token text)
RETURNS TABLE (tenant_id uuid, lead_id uuid, purpose text)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT r.tenant_id, r.lead_id, r.purpose FROM reply_addresses r WHERE r.token = reply_token
$$;
REVOKE EXECUTE ON FUNCTION leadorch_reply_address(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leadorch_reply_address(text) TO leadorch_app;

-- Inbound messages are texts or emails. An email's provider_id is its
-- Message-ID (or a digest of the delivery when it has none); subject and
-- raw_body keep what arrived, body the reply with quoted history and
-- signature stripped. 'auto_reply' (out of office, Auto-Submitted,
-- bounces) is recorded and stops nothing; 'shop_answer' is the shop's
-- reply to its notice, texted to the customer.
ALTER TABLE inbound_messages
    ADD COLUMN channel text NOT NULL DEFAULT 'sms' CHECK (channel IN ('sms', 'email')),
    ADD COLUMN subject text NOT NULL DEFAULT '',
    ADD COLUMN raw_body text NOT NULL DEFAULT '';
ALTER TABLE inbound_messages DROP CONSTRAINT inbound_messages_kind_check;
ALTER TABLE inbound_messages ADD CONSTRAINT inbound_messages_kind_check
    CHECK (kind IN ('stop', 'start', 'help', 'reply', 'auto_reply', 'shop_answer'));

-- Calls to a shop's Twilio number, one row per CallSid: the forward's
-- outcome (Twilio's DialCallStatus), and the lead and text a missed call
-- became.
CREATE TABLE calls (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id     uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    call_sid      text NOT NULL,
    from_number   text NOT NULL,
    to_number     text NOT NULL,
    -- '' while the forward rings; then completed, busy, no-answer, failed
    -- or canceled.
    dial_status   text NOT NULL DEFAULT '',
    lead_id       uuid,
    received_at   timestamptz NOT NULL DEFAULT now(),
    ended_at      timestamptz,
    handled_at    timestamptz,
    UNIQUE (tenant_id, call_sid),
    FOREIGN KEY (tenant_id, lead_id) REFERENCES leads (tenant_id, id) ON DELETE SET NULL (lead_id)
);
CREATE INDEX calls_from_idx ON calls (tenant_id, from_number, received_at);
ALTER TABLE calls ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON calls
    USING (tenant_id = nullif(current_setting('leadorch.tenant_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE, DELETE ON calls TO leadorch_app;
