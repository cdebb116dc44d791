package main

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// TestReportLeavesOutClosedDays: in the speed-to-lead report, a lead seen
// at 20:55 the evening before a closed day and texted at 08:00 the day
// after it waited five minutes of the shop's sending hours; for a shop
// that answers on closed days the closed day's 13 hours count.
func TestReportLeavesOutClosedDays(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	for _, tc := range []struct {
		name   string
		answer bool
		want   float64
	}{
		{"Closed Thursday Auto", false, 5 * 60},
		{"Answers Thursday Auto", true, 5*60 + 13*3600},
	} {
		shop := b.addTenant(t, tc.name)
		shop.Compliance = lead.Compliance{ClosedDays: []string{"2026-11-19"}, AnswerOnClosedDays: tc.answer}
		_, err := b.store.UpdateTenant(ctx, shop, nil)
		require.NoError(t, err)
		b.plant(t, shop, 0, reportLead{source: lead.SourceEstimate, seen: "2026-11-18T20:55:00-06:00", textedAt: "2026-11-20T08:00:00-06:00"})

		stdout, _, err := b.runReport(t, "--format", "json", "--tenant", tc.name)
		require.NoError(t, err)
		var rows []map[string]any
		require.NoError(t, json.Unmarshal([]byte(stdout), &rows))
		require.Len(t, rows, 1)
		require.InDelta(t, tc.want, rows[0]["median_in_window_seconds"], 0, tc.name)
		require.InDelta(t, 35*3600+5*60, rows[0]["median_to_text_seconds"], 0, tc.name)
	}
}
