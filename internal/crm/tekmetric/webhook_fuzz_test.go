package tekmetric_test

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/leadorch/lead-orchestrator/internal/crm/tekmetric"
)

func FuzzDecodeWebhook(f *testing.F) {
	for _, seed := range []string{
		`{"event":"Repair Order Created","data":{"id":123,"shopId":238,"customerId":9}}`,
		`{"event":"Appointment Created","data":{"id":5}}`,
		`{"event":"Customer Viewed Estimate","data":{"id":9}}`,
		`{"event":"Appointment Deleted","data":{"id":"5"}}`,
		`{"event":"Repair Order Updated","data":{"id":1e3}}`,
		`{"event":"Repair Order Updated","data":{"id":9223372036854775808}}`,
		`{"event":"","data":{}}`, `{"event":"x"}`, `[]`, `{`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := tekmetric.DecodeWebhook(body)
		if err != nil && !strings.HasPrefix(err.Error(), "tekmetric webhook: ") {
			t.Fatalf("error does not say what failed: %v", err)
		}
		if err != nil {
			return
		}
		if r.Event == "" || !utf8.ValidString(r.Event) || strings.ContainsRune(r.Event, 0) {
			t.Fatalf("bad event name accepted: %q", r.Event)
		}
		switch r.Kind {
		case tekmetric.WebhookRepairOrder, tekmetric.WebhookAppointment:
			if r.ID <= 0 {
				t.Fatalf("%s without a positive id: %+v", r.Kind, r)
			}
			if r.ExternalID() != string(r.Kind)+":"+strconv.FormatInt(r.ID, 10) {
				t.Fatalf("ExternalID %q of %+v", r.ExternalID(), r)
			}
			if _, err := tekmetric.ParseExternalID(r.ExternalID()); err != nil {
				t.Fatalf("ExternalID %q is not one ParseExternalID reads: %v", r.ExternalID(), err)
			}
		case tekmetric.WebhookOther:
			if r.ID < 0 || r.ExternalID() != "" {
				t.Fatalf("other event %+v", r)
			}
		default:
			t.Fatalf("unknown kind %q", r.Kind)
		}
	})
}
