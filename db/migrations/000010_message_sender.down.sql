UPDATE messages SET from_address = messaging_service_sid
    WHERE channel = 'sms' AND messaging_service_sid <> '';
ALTER TABLE messages
    DROP COLUMN IF EXISTS messaging_service_sid,
    DROP COLUMN IF EXISTS from_name;
