// W1 SHIM: a temporary copy of today's httpapi verification and parsing of
// ShopMonkey webhooks, with W2's exported name, so branch w1 compiles and
// tests before W2's internal/crm/shopmonkey/webhook.go lands. The lead
// deletes this file on merge.
package shopmonkey

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/leadorch/lead-orchestrator/internal/crm"
)

// ParseWebhook verifies a Standard Webhooks request and decodes it (W1 shim).
func ParseWebhook(req crm.WebhookRequest) (crm.WebhookEvent, error) {
	deliveryID, err := shimVerifyStandardWebhook(req.Secret.Reveal(), req.Header, req.Body, req.Now)
	if err != nil {
		return crm.WebhookEvent{}, err
	}
	e, err := shimParseShopMonkeyWebhook(req.Body)
	if err != nil {
		return crm.WebhookEvent{}, err
	}
	if !e.relevant() || (e.LocationID != "" && e.LocationID != req.Tenant.CRMLocationID) {
		return crm.WebhookEvent{Ignored: "not an order or appointment of this shop"}, nil
	}
	return crm.WebhookEvent{DeliveryID: deliveryID, ExternalID: e.externalID(), Version: e.Version}, nil
}

const (
	shimWebhookIDHeader        = "webhook-id"
	shimWebhookTimestampHeader = "webhook-timestamp"
	shimWebhookSignatureHeader = "webhook-signature"
	shimMaxWebhookSkew         = 5 * time.Minute
	shimSecretPrefix           = "whsec_"
	shimMaxWebhookText         = 8 << 10
)

func shimUnverified(format string, a ...any) error {
	return fmt.Errorf("%w: %s", crm.ErrWebhookUnverified, fmt.Sprintf(format, a...))
}

func shimVerifyStandardWebhook(secret string, h http.Header, body []byte, now time.Time) (string, error) {
	key, err := shimStandardWebhookKey(secret)
	if err != nil {
		return "", err
	}
	id := h.Get(shimWebhookIDHeader)
	timestamp := h.Get(shimWebhookTimestampHeader)
	signatures := h.Values(shimWebhookSignatureHeader)
	switch {
	case id == "":
		return "", shimUnverified("%s is required", shimWebhookIDHeader)
	case timestamp == "":
		return "", shimUnverified("%s is required", shimWebhookTimestampHeader)
	case len(signatures) == 0 || strings.TrimSpace(strings.Join(signatures, "")) == "":
		return "", shimUnverified("%s is required", shimWebhookSignatureHeader)
	}
	secs, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return "", shimUnverified("%s is not epoch seconds", shimWebhookTimestampHeader)
	}
	skew := int64(shimMaxWebhookSkew / time.Second)
	if nowSecs := now.Unix(); secs < nowSecs-skew || secs > nowSecs+skew {
		return "", shimUnverified("timestamp %d is more than %s from now", secs, shimMaxWebhookSkew)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + timestamp + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	for _, header := range signatures {
		for _, entry := range strings.Fields(header) {
			version, sig, ok := strings.Cut(entry, ",")
			if !ok || version != "v1" {
				continue
			}
			if got, err := base64.StdEncoding.DecodeString(sig); err == nil && hmac.Equal(got, want) {
				return id, nil
			}
		}
	}
	return "", shimUnverified("no v1 signature in %s matches", shimWebhookSignatureHeader)
}

func shimStandardWebhookKey(secret string) ([]byte, error) {
	bad := func(reason string) error {
		return fmt.Errorf("%w: %w: %s", crm.ErrWebhookUnverified, crm.ErrWebhookSecret, reason)
	}
	if rest, ok := strings.CutPrefix(secret, shimSecretPrefix); ok {
		key, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return nil, bad("the text after \"whsec_\" is not base64")
		}
		if len(key) == 0 {
			return nil, bad("the key after \"whsec_\" is empty")
		}
		return key, nil
	}
	if secret == "" {
		return nil, bad("it is empty")
	}
	return []byte(secret), nil
}

type shimEvent struct {
	Operation, Table, RecordID, LocationID string
	Version                                int64
}

func (e shimEvent) externalID() string {
	switch e.Table {
	case "order", "appointment":
		return e.Table + ":" + e.RecordID
	}
	return ""
}

func (e shimEvent) relevant() bool {
	return e.Operation != "DELETE" && (e.Table == "order" || e.Table == "appointment")
}

func shimParseShopMonkeyWebhook(body []byte) (shimEvent, error) {
	var v struct {
		Operation json.RawMessage `json:"operation"`
		Table     json.RawMessage `json:"table"`
		Data      json.RawMessage `json:"data"`
	}
	if err := shimDecodeObject(body, &v); err != nil {
		return shimEvent{}, fmt.Errorf("shopmonkey webhook: body %w", err)
	}
	var e shimEvent
	var err error
	if e.Operation, err = shimJSONText("operation", v.Operation, true); err != nil {
		return shimEvent{}, fmt.Errorf("shopmonkey webhook: %w", err)
	}
	e.Operation = strings.ToUpper(e.Operation)
	if !slices.Contains([]string{"INSERT", "UPDATE", "DELETE"}, e.Operation) {
		return shimEvent{}, fmt.Errorf("shopmonkey webhook: field operation: want INSERT, UPDATE or DELETE, got %s", shimExcerpt(e.Operation))
	}
	if e.Table, err = shimJSONText("table", v.Table, true); err != nil {
		return shimEvent{}, fmt.Errorf("shopmonkey webhook: %w", err)
	}
	var data struct {
		ID                json.RawMessage `json:"id"`
		LocationID        json.RawMessage `json:"locationId"`
		Status            json.RawMessage `json:"status"`
		AttributionSource json.RawMessage `json:"attributionSource"`
		UpdatedDate       json.RawMessage `json:"updatedDate"`
		Meta              json.RawMessage `json:"meta"`
	}
	if shimIsNull(v.Data) {
		return shimEvent{}, errors.New("shopmonkey webhook: field data: is missing")
	}
	if err := shimDecodeObject(v.Data, &data); err != nil {
		return shimEvent{}, fmt.Errorf("shopmonkey webhook: field data: %w", err)
	}
	if e.RecordID, err = shimJSONText("data.id", data.ID, true); err != nil {
		return shimEvent{}, fmt.Errorf("shopmonkey webhook: %w", err)
	}
	switch e.Table {
	case "order":
		_, err = shimJSONText("data.status", data.Status, false)
	case "appointment":
		_, err = shimJSONText("data.attributionSource", data.AttributionSource, false)
	}
	if err == nil && e.externalID() != "" {
		e.LocationID, err = shimJSONText("data.locationId", data.LocationID, false)
	}
	if err != nil {
		return shimEvent{}, fmt.Errorf("shopmonkey webhook: %w", err)
	}
	e.Version = shimVersion(data.Meta, data.UpdatedDate)
	return e, nil
}

func shimVersion(meta, updated json.RawMessage) int64 {
	var m struct {
		Version json.RawMessage `json:"version"`
	}
	if !shimIsNull(meta) && json.Unmarshal(meta, &m) == nil && !shimIsNull(m.Version) {
		text := string(bytes.TrimSpace(m.Version))
		if text[0] == '"' {
			if json.Unmarshal(m.Version, &text) != nil {
				return 0
			}
			text = strings.TrimSpace(text)
		}
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return 0
		}
		return n
	}
	var s string
	if shimIsNull(updated) || json.Unmarshal(updated, &s) != nil {
		return 0
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return 0
	}
	return t.UnixMilli()
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
	switch {
	case s == "" && required:
		return "", fmt.Errorf("field %s: is empty", field)
	case len(s) > shimMaxWebhookText:
		return "", fmt.Errorf("field %s: is longer than %d bytes", field, shimMaxWebhookText)
	case !utf8.ValidString(s):
		return "", fmt.Errorf("field %s: is not valid UTF-8", field)
	case strings.IndexByte(s, 0) >= 0:
		return "", fmt.Errorf("field %s: contains a NUL character", field)
	case strings.ContainsFunc(s, unicode.IsControl):
		return "", fmt.Errorf("field %s: contains control characters: %s", field, shimExcerpt(s))
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
