DROP TABLE IF EXISTS message_events;
