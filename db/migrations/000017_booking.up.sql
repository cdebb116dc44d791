-- Issue 13: booking from the text. The shop's booking settings
-- (lead.BookingSettings as JSON; '{}' is booking switched off).
ALTER TABLE tenants ADD COLUMN booking jsonb NOT NULL DEFAULT '{}'::jsonb;

-- A lead's booking links, by the SHA-256 of the token
-- (credentials.Keyring.LinkToken): a database dump holds no working link.
-- Each message that carries the link pushes expires_at out; a key rotation
-- makes a new token and so a new row, and the old keeps resolving until it
-- expires.
CREATE TABLE booking_links (
    token_sha256 bytea PRIMARY KEY CHECK (length(token_sha256) = 32),
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    lead_id      uuid NOT NULL,
    expires_at   timestamptz NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (tenant_id, lead_id) REFERENCES leads (tenant_id, id) ON DELETE CASCADE
);
CREATE INDEX booking_links_lead ON booking_links (tenant_id, lead_id);
ALTER TABLE booking_links ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON booking_links
    USING (tenant_id = nullif(current_setting('leadorch.tenant_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE, DELETE ON booking_links TO leadorch_app;

-- Resolves a booking link's hash before any tenant is known (the page is
-- one URL for every shop): the tenant, the lead and when the link expires;
-- no row for an unknown hash.
CREATE FUNCTION leadorch_booking_link(token_hash bytea)
RETURNS TABLE (tenant_id uuid, lead_id uuid, expires_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT b.tenant_id, b.lead_id, b.expires_at FROM booking_links b WHERE b.token_sha256 = token_hash
$$;
REVOKE EXECUTE ON FUNCTION leadorch_booking_link(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leadorch_booking_link(bytea) TO leadorch_app;

-- A lead's booking requests and what became of them (lead.Booking). The
-- book_appointment job is their outbox: requested, then booking (claimed,
-- committed before the CRM call), then booked, taken, failed or ambiguous.
CREATE TABLE bookings (
    id                 uuid PRIMARY KEY,
    tenant_id          uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    lead_id            uuid NOT NULL,
    -- The form's one-time key: a double tap is one request.
    request_key        text NOT NULL,
    starts_at          timestamptz NOT NULL,
    ends_at            timestamptz NOT NULL CHECK (ends_at > starts_at),
    state              text NOT NULL DEFAULT 'requested' CHECK (state IN
        ('requested', 'booking', 'booked', 'taken', 'failed', 'ambiguous', 'cancelled')),
    reason             text NOT NULL DEFAULT '',
    -- Our marker in the appointment's notes, how a retry finds what a lost
    -- answer created.
    ref                text NOT NULL,
    crm_appointment_id text NOT NULL DEFAULT '',
    change             text NOT NULL DEFAULT '' CHECK (change IN ('', 'move', 'cancel')),
    change_starts_at   timestamptz,
    change_ends_at     timestamptz,
    change_state       text NOT NULL DEFAULT '' CHECK (change_state IN
        ('', 'requested', 'done', 'asked_shop', 'failed')),
    change_reason      text NOT NULL DEFAULT '',
    change_key         text NOT NULL DEFAULT '',
    claimed_at         timestamptz,
    booked_at          timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, request_key),
    FOREIGN KEY (tenant_id, lead_id) REFERENCES leads (tenant_id, id) ON DELETE CASCADE
);
-- One live booking per lead: two tabs make one appointment.
CREATE UNIQUE INDEX bookings_one_live ON bookings (tenant_id, lead_id)
    WHERE state IN ('requested', 'booking', 'booked', 'ambiguous');
-- The desk's busy times: our live bookings in the horizon.
CREATE INDEX bookings_live_start ON bookings (tenant_id, starts_at)
    WHERE state IN ('requested', 'booking', 'booked', 'ambiguous');
ALTER TABLE bookings ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON bookings
    USING (tenant_id = nullif(current_setting('leadorch.tenant_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE, DELETE ON bookings TO leadorch_app;
