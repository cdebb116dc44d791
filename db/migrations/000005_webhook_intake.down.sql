DROP TABLE IF EXISTS webhook_intake_limits;
