package lead_test

import (
	"testing"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// BenchmarkParsePhoneNumber measures one number as a CRM writes it, the
// cost paid once per lead ingested and per inbound text.
func BenchmarkParsePhoneNumber(b *testing.B) {
	for _, raw := range []string{"(512) 201-3344", "+1 416 201 3344"} {
		b.Run(raw, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := lead.ParsePhoneNumber(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
