package sendgrid

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/leadorch/lead-orchestrator/internal/messaging"
)

// decodeEvents decodes a verified event webhook body. Events without our
// message id (mail sent by other applications on the same account, our
// notices to shops) are dropped; an event with malformed ids is an error naming the field, since a
// signed body from SendGrid should never carry one.
func decodeEvents(body []byte) ([]messaging.EmailEvent, error) {
	var raw []map[string]any
	if err := json.Unmarshal(body, &raw); err != nil {
		return nil, fmt.Errorf("event webhook body: not a JSON array of events: %w", err)
	}
	out := make([]messaging.EmailEvent, 0, len(raw))
	for i, r := range raw {
		tenantID, _ := r["tenant_id"].(string)
		messageID, _ := r["message_id"].(string)
		if messageID == "" {
			// Not a customer message of ours: mail of other applications
			// on the account, or our notices to shops (which carry the
			// tenant but no message). Dropped, not refused: one such event
			// must not make SendGrid redeliver the whole batch forever.
			continue
		}
		if _, err := uuid.Parse(tenantID); err != nil {
			return nil, fmt.Errorf("event %d: field tenant_id: not a uuid", i)
		}
		if _, err := uuid.Parse(messageID); err != nil {
			return nil, fmt.Errorf("event %d: field message_id: not a uuid", i)
		}
		event, _ := r["event"].(string)
		if event == "" {
			return nil, fmt.Errorf("event %d: field event: missing", i)
		}
		ts, ok := r["timestamp"].(float64)
		if !ok {
			return nil, fmt.Errorf("event %d: field timestamp: missing or not a number", i)
		}
		email, _ := r["email"].(string)
		sgID, _ := r["sg_message_id"].(string)
		// sg_message_id is X-Message-Id plus routing suffixes.
		providerID, _, _ := strings.Cut(sgID, ".")
		reason, _ := r["reason"].(string)
		out = append(out, messaging.EmailEvent{
			TenantID: tenantID, MessageID: messageID, Event: event, Email: email,
			ProviderMessageID: providerID, Reason: reason, OccurredAt: time.Unix(int64(ts), 0).UTC(),
		})
	}
	return out, nil
}
