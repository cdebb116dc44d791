package jobs

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"github.com/stretchr/testify/require"
)

// TestCancelLogMasksContacts: a cancel's reason keeps ids, dates and error
// codes and loses the customer's address or number (lead.MaskContacts, the
// one masking rule of the fleet).
func TestCancelLogMasksContacts(t *testing.T) {
	t.Parallel()
	for in, keep := range map[string][]string{
		"invalid customer.email: is not a string: \"ann@example.com\"":  {"invalid customer.email"},
		"twilio 21211: '+15125550100' is not a valid number":            {"twilio 21211", "is not a valid number"},
		"customer said call (512) 555-0100 or 512.555.0101":             {"customer said call"},
		"lead order:5f3a9c: shopmonkey answered HTTP 404 at 2026-12-01": {"lead order:5f3a9c: shopmonkey answered HTTP 404 at 2026-12-01"},
	} {
		var buf bytes.Buffer
		r := &ExecutionRecorder{deps: &Deps{Logger: slog.New(slog.NewJSONHandler(&buf, nil))}}
		r.logCancel(context.Background(), &rivertype.JobRow{ID: 1, Kind: "ingest_lead", EncodedArgs: []byte(`{"external_id":"order:1"}`)}, [16]byte{1}, river.JobCancel(errors.New(in)))
		out := buf.String()
		for _, raw := range []string{"ann@example.com", "5125550100", "555-0100", "555.0101"} {
			require.NotContains(t, out, raw, "logging %q", in)
		}
		for _, k := range keep {
			require.Contains(t, out, k, "logging %q", in)
		}
		require.Contains(t, out, `"external_id":"order:1"`)
	}
}
