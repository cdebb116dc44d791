DROP INDEX IF EXISTS messages_sms_to_idx;
