ALTER TABLE messages DROP COLUMN allowed_by;
ALTER TABLE leads DROP COLUMN consent_evidence;
