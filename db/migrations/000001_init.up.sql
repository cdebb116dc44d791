-- Shops. One row per tenant; everything else hangs off tenants.id.
CREATE TABLE tenants (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name                  text NOT NULL UNIQUE CHECK (name <> ''),
    crm_kind              text NOT NULL CHECK (crm_kind IN ('shopmonkey')),
    crm_location_id       text NOT NULL DEFAULT '',
    -- The CRM API key. Issue 4 moves it to encrypted credentials.
    crm_api_key           text NOT NULL DEFAULT '',
    time_zone             text NOT NULL DEFAULT 'America/New_York',
    poll_interval_seconds integer NOT NULL DEFAULT 60 CHECK (poll_interval_seconds BETWEEN 5 AND 86400),
    -- Everything the CRM changed before poll_cursor has been listed by a
    -- completed live poll; the next live poll starts from it (minus overlap).
    poll_cursor           timestamptz NOT NULL DEFAULT now(),
    next_poll_at          timestamptz NOT NULL DEFAULT now(),
    sms_from              text NOT NULL DEFAULT '',
    messaging_service_sid text NOT NULL DEFAULT '',
    email_from            text NOT NULL DEFAULT '',
    email_from_name       text NOT NULL DEFAULT '',
    -- Per-tenant message templates; a missing key means the fleet default.
    templates             jsonb NOT NULL DEFAULT '{}',
    enabled               boolean NOT NULL DEFAULT true,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now()
);

-- schedule_polls scans this for tenants that are due.
CREATE INDEX tenants_due_idx ON tenants (next_poll_at) WHERE enabled;

CREATE TABLE leads (
    id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id            uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    crm                  text NOT NULL,
    external_id          text NOT NULL,
    source               text NOT NULL CHECK (source IN ('estimate', 'appointment')),
    status               text NOT NULL DEFAULT 'new'
                         CHECK (status IN ('new', 'contacted', 'replied', 'booked', 'opted_out', 'closed')),
    customer_external_id text NOT NULL DEFAULT '',
    vehicle_external_id  text NOT NULL DEFAULT '',
    first_name           text NOT NULL DEFAULT '',
    last_name            text NOT NULL DEFAULT '',
    phone                text NOT NULL DEFAULT '',
    email                text NOT NULL DEFAULT '',
    vehicle              jsonb NOT NULL DEFAULT '{}',
    summary              text NOT NULL DEFAULT '',
    consent_sms          boolean NOT NULL DEFAULT false,
    consent_email        boolean NOT NULL DEFAULT false,
    consent_marketing    boolean NOT NULL DEFAULT false,
    -- True when the lead came from a backfill that was not to be messaged.
    backfilled           boolean NOT NULL DEFAULT false,
    crm_created_at       timestamptz,
    crm_updated_at       timestamptz,
    crm_version          bigint NOT NULL DEFAULT 0,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, crm, external_id)
);

CREATE INDEX leads_tenant_created_idx ON leads (tenant_id, created_at);

-- The outbox: one row per (lead, step, channel). A send claims its row
-- (pending -> sending) and commits before calling the provider, and records
-- the provider id after, so a retry can tell what already happened.
CREATE TABLE messages (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id    uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    lead_id      uuid NOT NULL REFERENCES leads (id) ON DELETE CASCADE,
    step         text NOT NULL,
    channel      text NOT NULL CHECK (channel IN ('sms', 'email')),
    to_address   text NOT NULL,
    from_address text NOT NULL DEFAULT '',
    subject      text NOT NULL DEFAULT '',
    body         text NOT NULL,
    status       text NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'sending', 'sent', 'delivered', 'failed', 'suppressed', 'ambiguous', 'skipped')),
    provider_id  text,
    attempts     integer NOT NULL DEFAULT 0,
    last_error   text NOT NULL DEFAULT '',
    sending_at   timestamptz,
    sent_at      timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, lead_id, step, channel)
);

CREATE INDEX messages_tenant_status_idx ON messages (tenant_id, status);

CREATE TABLE suppressions (
    tenant_id  uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    channel    text NOT NULL CHECK (channel IN ('sms', 'email')),
    address    text NOT NULL,
    reason     text NOT NULL,
    source     text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, channel, address)
);

-- One row per run of every job. River decrements `attempt` when a job
-- snoozes, so (job_id, attempt) repeats across snoozes; `run` (attempt plus
-- the snooze count) does not, and runs of one job are numbered 1, 2, 3...
CREATE TABLE job_executions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id      bigint NOT NULL,
    run         integer NOT NULL,
    attempt     integer NOT NULL,
    kind        text NOT NULL,
    queue       text NOT NULL,
    -- NULL for fleet-wide jobs (schedule_polls) that belong to no tenant.
    tenant_id   uuid REFERENCES tenants (id) ON DELETE CASCADE,
    lead_id     uuid,
    outcome     text NOT NULL
                CHECK (outcome IN ('completed', 'error', 'panic', 'cancelled', 'snoozed', 'timeout', 'abandoned')),
    error       text NOT NULL DEFAULT '',
    started_at  timestamptz NOT NULL,
    finished_at timestamptz NOT NULL,
    UNIQUE (job_id, run)
);

CREATE INDEX job_executions_tenant_idx ON job_executions (tenant_id, started_at);
CREATE INDEX job_executions_lead_idx ON job_executions (lead_id) WHERE lead_id IS NOT NULL;
