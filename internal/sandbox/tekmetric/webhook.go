package faketekmetric

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
)

// PostWebhook sends one Tekmetric webhook to url: {"event","data"}
// with nothing signed, since Tekmetric signs nothing. The per-tenant secret
// token is part of url, as the shop configured it. event is the name
// Tekmetric shows ("Repair Order Created", "Appointment Created").
func PostWebhook(ctx context.Context, client *http.Client, url string, event string, data any) error {
	body, err := json.Marshal(map[string]any{"event": event, "data": data})
	if err != nil {
		return fmt.Errorf("error encoding tekmetric webhook: %w", err)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	return fake.PostWebhook(ctx, client, url, h, body)
}
