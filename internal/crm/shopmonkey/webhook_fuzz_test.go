package shopmonkey_test

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/crm/shopmonkey"
	fakeshopmonkey "github.com/leadorch/lead-orchestrator/internal/sandbox/shopmonkey"
)

func FuzzDecodeWebhook(f *testing.F) {
	for _, seed := range []string{
		`{"apiVersion":"v3","operation":"INSERT","table":"order","data":{"id":"ord_1","status":"Estimate","locationId":"loc","meta":{"version":3}},"diff":null}`,
		`{"operation":"UPDATE","table":"appointment","data":{"id":"a1","attributionSource":"WorkRequestForm","updatedDate":"2025-01-02T03:04:05Z"}}`,
		`{"operation":"DELETE","table":"customer","data":{"id":"c1","meta":{"version":"12"}},"diff":[{"op":"remove","path":"/x"}]}`,
		`{"operation":"insert","table":"order","data":{"id":"o","meta":{"version":""}}}`,
		`{"operation":"INSERT","table":"order","data":{"id":"o","meta":5}}`,
		`{"operation":"INSERT","table":"order","data":{"id":"\u0007"}}`,
		`{"operation":"INSERT","table":"order","data":{"id":"50%"}}`,
		`{"operation":"INSERT","table":"order","data":null}`,
		`{}`, `[]`, `null`, ``, `{"data":{"id":`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := shopmonkey.DecodeWebhook(body)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "shopmonkey webhook: ") {
				t.Fatalf("error does not say what failed: %v", err)
			}
			if r != (shopmonkey.WebhookRecord{}) {
				t.Fatalf("error with a non-zero record: %+v", r)
			}
			return
		}
		if r.RecordID == "" || r.Table == "" {
			t.Fatalf("parsed without record id or table: %+v", r)
		}
		if !slices.Contains([]string{"INSERT", "UPDATE", "DELETE"}, r.Operation) {
			t.Fatalf("operation %q accepted", r.Operation)
		}
		for _, s := range []string{r.RecordID, r.Table, r.Operation, r.LocationID, r.Status, r.AttributionSource, r.APIVersion} {
			if !utf8.ValidString(s) || strings.ContainsFunc(s, unicode.IsControl) {
				t.Fatalf("unstorable text accepted: %q", s)
			}
		}
		if x := r.ExternalID(); x != "" && x != r.Table+":"+crm.EscapeID(r.RecordID) {
			t.Fatalf("ExternalID %q of %+v", x, r)
		}
		if r.LeadCandidate() && r.ExternalID() == "" {
			t.Fatalf("lead candidate without an ExternalID: %+v", r)
		}
	})
}

func FuzzVerifyStandardWebhook(f *testing.F) {
	now := time.Date(2025, 3, 4, 15, 0, 0, 0, time.UTC)
	good := fakeshopmonkey.SignWebhook(testWebhookSecret, "msg_1", now, []byte(`{"a":1}`))
	f.Add("msg_1", good.Get(shopmonkey.WebhookTimestampHeader), good.Get(shopmonkey.WebhookSignatureHeader), []byte(`{"a":1}`), int64(0))
	f.Add("msg_1", good.Get(shopmonkey.WebhookTimestampHeader), "v1a,xx "+good.Get(shopmonkey.WebhookSignatureHeader), []byte(`{"a":1}`), int64(299))
	f.Add("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", []byte(`{"test": 2432232314}`), int64(-1))
	f.Add("", "", "", []byte{}, int64(0))
	f.Add("id", "-9223372036854775808", "v1,", []byte("x"), int64(301))
	f.Add("id", "+1741100400", "v1,AAAA v1,====", []byte("x"), int64(-301))
	f.Fuzz(func(t *testing.T, id, timestamp, signature string, body []byte, offset int64) {
		h := http.Header{}
		h.Set(shopmonkey.WebhookIDHeader, id)
		h.Set(shopmonkey.WebhookTimestampHeader, timestamp)
		h.Set(shopmonkey.WebhookSignatureHeader, signature)
		gotID, err := shopmonkey.VerifyStandardWebhook(testWebhookSecret, h, body, now)
		if err == nil {
			// Accepted: the header must hold the real signature of a
			// fresh timestamp.
			secs, perr := strconv.ParseInt(timestamp, 10, 64)
			if perr != nil || gotID != id || strconv.FormatInt(secs, 10) != timestamp {
				t.Fatalf("accepted id %q timestamp %q", id, timestamp)
			}
			want := fakeshopmonkey.SignWebhook(testWebhookSecret, id, time.Unix(secs, 0), body).Get(shopmonkey.WebhookSignatureHeader)
			if !slices.Contains(strings.Fields(signature), want) {
				t.Fatalf("accepted %q without its signature %q", signature, want)
			}
		} else if errors.Is(err, crm.ErrWebhookSecret) {
			t.Fatalf("a request error blamed on the secret: %v", err)
		} else if !errors.Is(err, crm.ErrWebhookUnverified) {
			t.Fatalf("error is not crm.ErrWebhookUnverified: %v", err)
		} else if strings.Contains(err.Error(), "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") {
			t.Fatalf("error holds the secret: %v", err)
		}

		// Round trip: what the sandbox signs within the skew verifies,
		// and a changed body does not.
		if id == "" {
			return
		}
		at := now.Add(time.Duration(offset%int64(shopmonkey.MaxWebhookSkew/time.Second)) * time.Second)
		signed := fakeshopmonkey.SignWebhook(testWebhookSecret, id, at, body)
		gotID, err = shopmonkey.VerifyStandardWebhook(testWebhookSecret, signed, body, now)
		if err != nil || gotID != id {
			t.Fatalf("sandbox-signed webhook rejected: id %q, %v", gotID, err)
		}
		_, err = shopmonkey.VerifyStandardWebhook(testWebhookSecret, signed, append(slices.Clone(body), '!'), now)
		if !errors.Is(err, shopmonkey.ErrWebhookSignature) {
			t.Fatalf("tampered body: %v", err)
		}
	})
}
