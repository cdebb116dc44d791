// W1 SHIM: a temporary copy of today's httpapi parsing of Tekmetric
// webhooks, with W2's exported name, so branch w1 compiles and tests before
// W2's internal/crm/tekmetric/webhook.go lands. The lead deletes this file
// on merge.
package tekmetric

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/leadorch/lead-orchestrator/internal/crm"
)

// ParseWebhook decodes a Tekmetric webhook whose URL token the route
// checked (W1 shim).
func ParseWebhook(req crm.WebhookRequest) (crm.WebhookEvent, error) {
	var v struct {
		Event json.RawMessage `json:"event"`
		Data  json.RawMessage `json:"data"`
	}
	if err := shimDecodeObject(req.Body, &v); err != nil {
		return crm.WebhookEvent{}, fmt.Errorf("tekmetric webhook: body %w", err)
	}
	event, err := shimJSONText("event", v.Event, true)
	if err != nil {
		return crm.WebhookEvent{}, fmt.Errorf("tekmetric webhook: %w", err)
	}
	kind := shimKind(event)
	if kind == "" {
		return crm.WebhookEvent{Ignored: event}, nil
	}
	var data struct {
		ID          json.RawMessage `json:"id"`
		UpdatedDate json.RawMessage `json:"updatedDate"`
	}
	if shimIsNull(v.Data) {
		return crm.WebhookEvent{}, errors.New("tekmetric webhook: field data: is missing")
	}
	if err := shimDecodeObject(v.Data, &data); err != nil {
		return crm.WebhookEvent{}, fmt.Errorf("tekmetric webhook: field data: %w", err)
	}
	id, err := strconv.ParseInt(string(bytes.TrimSpace(data.ID)), 10, 64)
	if shimIsNull(data.ID) {
		return crm.WebhookEvent{}, errors.New("tekmetric webhook: field data.id: is missing")
	}
	if err != nil || id <= 0 {
		return crm.WebhookEvent{}, fmt.Errorf("tekmetric webhook: field data.id: is not a positive integer: %s", shimExcerpt(string(data.ID)))
	}
	loc, err := req.Tenant.Location()
	if err != nil {
		loc = time.UTC
	}
	updated, _ := shimJSONText("data.updatedDate", data.UpdatedDate, false)
	return crm.WebhookEvent{ExternalID: kind + ":" + strconv.FormatInt(id, 10), Version: shimVersion(updated, loc)}, nil
}

func shimVersion(updated string, loc *time.Location) int64 {
	if updated == "" {
		return 0
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700"} {
		if t, err := time.Parse(layout, updated); err == nil {
			return t.UnixMilli()
		}
	}
	if t, err := time.ParseInLocation("2006-01-02T15:04:05.999999999", updated, loc); err == nil {
		return t.UnixMilli()
	}
	return 0
}

func shimKind(event string) string {
	name := strings.ToLower(strings.Join(strings.Fields(event), " "))
	switch {
	case strings.HasPrefix(name, "repair order "):
		return "repair-order"
	case strings.HasPrefix(name, "appointment "):
		return "appointment"
	}
	return ""
}

func shimDecodeObject(raw []byte, v any) error {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return errors.New("is not a JSON object")
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return errors.New("is not a JSON object: " + err.Error())
	}
	return nil
}

func shimJSONText(field string, raw json.RawMessage, required bool) (string, error) {
	if shimIsNull(raw) {
		if required {
			return "", fmt.Errorf("field %s: is missing", field)
		}
		return "", nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", fmt.Errorf("field %s: is not a string: %s", field, shimExcerpt(string(raw)))
	}
	if s == "" && required {
		return "", fmt.Errorf("field %s: is empty", field)
	}
	if len(s) > 8<<10 || !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl) {
		return "", fmt.Errorf("field %s: is not storable text: %s", field, shimExcerpt(s))
	}
	return s, nil
}

func shimIsNull(raw json.RawMessage) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) == 0 || string(raw) == "null"
}

func shimExcerpt(s string) string {
	if len(s) > 40 {
		s = s[:40] + "..."
	}
	return strconv.Quote(s)
}
