-- Carrier verdicts (issue 14, item 7). A tenant whose texts carriers filter
-- or refuse as unregistered traffic needs an operator, for a reason of its
-- own: tenants.needs_attention belongs to the CRM's credentials (a
-- successful poll or a changed key clears it, and it backs polls off), so
-- the carrier's verdict gets its own columns instead of sharing that flag.
-- carrier_attention is '' when nothing is wrong, else why (it names the
-- Twilio codes).
ALTER TABLE tenants
    ADD COLUMN carrier_attention text NOT NULL DEFAULT '',
    ADD COLUMN carrier_attention_since timestamptz;

-- The final delivery outcome of a tenant's latest texts, as the status
-- callbacks report them: delivered, or the provider's error code and the
-- fleet's verdict of it (messaging.Verdict). Only the newest few per
-- tenant are kept (store.RecordSMSOutcome prunes the rest in the same
-- transaction): the rules read "3 of the last 20" and "the last 5 in a
-- row", and reading them from messages would sort every text the tenant
-- ever sent. Written by the bookkeeping queue only, never on the send path.
CREATE TABLE sms_outcomes (
    tenant_id   uuid NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    provider_id text NOT NULL,
    delivered   boolean NOT NULL,
    error_code  integer NOT NULL,
    verdict     text NOT NULL,
    recorded_at timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, provider_id)
);
CREATE INDEX sms_outcomes_recent_idx ON sms_outcomes (tenant_id, recorded_at DESC);

ALTER TABLE sms_outcomes ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sms_outcomes
    USING (tenant_id = nullif(current_setting('leadorch.tenant_id', true), '')::uuid);
GRANT SELECT, INSERT, UPDATE, DELETE ON sms_outcomes TO leadorch_app;

-- Migration 13's per-tenant figures plus whether carriers are filtering the
-- tenant's texts. The return type changes, so the function is dropped and
-- made again (with its grant).
DROP FUNCTION leadorch_fleet_tenants(timestamptz);
CREATE FUNCTION leadorch_fleet_tenants(as_of timestamptz)
RETURNS TABLE (tenant_id uuid, crm_kind text, enabled boolean, poll_lag_seconds double precision,
               poll_failing boolean, credentials_rejected boolean, ambiguous_messages boolean,
               carrier_filtering boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT t.id, t.crm_kind, t.enabled,
        greatest(EXTRACT(EPOCH FROM as_of - t.poll_cursor), 0)::double precision,
        coalesce((SELECT e.outcome IN ('error', 'panic', 'timeout', 'cancelled', 'abandoned')
                  FROM job_executions e
                  WHERE e.tenant_id = t.id AND e.kind = 'poll_crm' AND e.queue = 'crm'
                  ORDER BY e.started_at DESC LIMIT 1), false),
        t.needs_attention,
        EXISTS (SELECT 1 FROM messages m WHERE m.tenant_id = t.id AND m.status = 'ambiguous'),
        t.carrier_attention <> ''
    FROM tenants t
$$;
REVOKE EXECUTE ON FUNCTION leadorch_fleet_tenants(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leadorch_fleet_tenants(timestamptz) TO leadorch_app;
