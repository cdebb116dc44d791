-- Frequency caps (issue 14, item 4). Every claim of a text counts the texts
-- to the same number of the tenant claimed in the cap's rolling window
-- (store.ClaimedTexts); without this index that read scanned every message
-- of the tenant's status. Texts only: the cap is a rule of texts.
CREATE INDEX messages_sms_to_idx ON messages (tenant_id, to_address, sending_at) WHERE channel = 'sms';
