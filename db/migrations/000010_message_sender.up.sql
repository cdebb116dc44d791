-- The sender of each outbox row, chosen once when the message is composed
-- and used by every attempt and every reconcile of it: a shop that changes
-- its number or Messaging Service while a text is in flight must not have
-- the retry sent, or looked for at Twilio, under the new one.
--
-- A text names its From number (from_address, empty when the shop sends
-- through a Messaging Service only) and its Messaging Service (Twilio uses
-- the number from the service's pool when both are given); an email its
-- address (from_address) and display name (from_name).
ALTER TABLE messages
    ADD COLUMN messaging_service_sid text NOT NULL DEFAULT '',
    ADD COLUMN from_name text NOT NULL DEFAULT '';

-- Rows composed before this migration held the Messaging Service, when the
-- shop had one, in from_address, and their sends read the rest from the
-- tenant: give them the sender those sends would have used.
UPDATE messages m SET messaging_service_sid = m.from_address, from_address = t.sms_from
    FROM tenants t
    WHERE t.id = m.tenant_id AND m.channel = 'sms' AND m.from_address LIKE 'MG%';
UPDATE messages m SET from_name = t.email_from_name
    FROM tenants t
    WHERE t.id = m.tenant_id AND m.channel = 'email';
