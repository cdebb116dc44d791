-- Consent evidence (issue 14, item 6): a shop asked "why did you text me"
-- answers from these. leads.consent_evidence is where each channel's
-- consent came from (lead.ConsentEvidenceSet as JSON: the CRM field, its
-- value, when the ingest read it); '{}' on leads stored before it was kept.
-- messages.allowed_by is the rule the guards let the message go by
-- (lead.AllowedBy), written in the claim transaction that moves the row to
-- sending; '' on rows claimed before it was kept and on rows never claimed.
ALTER TABLE leads ADD COLUMN consent_evidence jsonb NOT NULL DEFAULT '{}';
ALTER TABLE messages ADD COLUMN allowed_by text NOT NULL DEFAULT '';
