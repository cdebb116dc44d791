DROP FUNCTION leadorch_fleet_tenants(timestamptz);
CREATE FUNCTION leadorch_fleet_tenants(as_of timestamptz)
RETURNS TABLE (tenant_id uuid, crm_kind text, enabled boolean, poll_lag_seconds double precision,
               poll_failing boolean, credentials_rejected boolean, ambiguous_messages boolean)
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = public, pg_temp AS $$
    SELECT t.id, t.crm_kind, t.enabled,
        greatest(EXTRACT(EPOCH FROM as_of - t.poll_cursor), 0)::double precision,
        coalesce((SELECT e.outcome IN ('error', 'panic', 'timeout', 'cancelled', 'abandoned')
                  FROM job_executions e
                  WHERE e.tenant_id = t.id AND e.kind = 'poll_crm' AND e.queue = 'crm'
                  ORDER BY e.started_at DESC LIMIT 1), false),
        t.needs_attention,
        EXISTS (SELECT 1 FROM messages m WHERE m.tenant_id = t.id AND m.status = 'ambiguous')
    FROM tenants t
$$;
REVOKE EXECUTE ON FUNCTION leadorch_fleet_tenants(timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION leadorch_fleet_tenants(timestamptz) TO leadorch_app;

DROP TABLE sms_outcomes;
ALTER TABLE tenants DROP COLUMN carrier_attention, DROP COLUMN carrier_attention_since;
