-- A shop's compliance settings (lead.Compliance, JSON): the phone regions it
-- texts, its cap on texts to one number, its closed days, its postal address
-- and SendGrid unsubscribe group for email. '{}' is every default.
ALTER TABLE tenants ADD COLUMN compliance jsonb NOT NULL DEFAULT '{}'::jsonb
    CHECK (jsonb_typeof(compliance) = 'object');
