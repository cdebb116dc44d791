package main

import (
	"cmp"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// reportRow is one line of the report: one shop's leads of one source.
// A figure that has nothing to measure (no lead texted yet, no lead at
// all) is nil: "n/a" in a table or CSV, null in JSON.
type reportRow struct {
	Shop   string `json:"shop"`
	Source string `json:"source"`
	Leads  int    `json:"leads"`
	// Texted is how many of the leads had a text accepted by the provider;
	// the times are theirs.
	Texted int `json:"texted"`
	// From our first sight of the lead to its first accepted text.
	MedianToTextSeconds *float64 `json:"median_to_text_seconds"`
	P90ToTextSeconds    *float64 `json:"p90_to_text_seconds"`
	// The same, counting only the seconds the shop's sending window was
	// open: a lead that came in at night and was texted at opening time
	// was answered as fast as the shop allowed.
	MedianInWindowSeconds *float64 `json:"median_in_window_seconds"`
	P90InWindowSeconds    *float64 `json:"p90_in_window_seconds"`
	// From the lead's creation in the CRM (leads whose CRM said when).
	MedianFromCRMSeconds *float64 `json:"median_from_crm_seconds"`
	P90FromCRMSeconds    *float64 `json:"p90_from_crm_seconds"`
	ReplyRate            *float64 `json:"reply_rate"`
	BookedRate           *float64 `json:"booked_rate"`
	OptOutRate           *float64 `json:"opt_out_rate"`
	// Failed counts the leads' messages that failed, FailuresByReason the
	// same by channel and a bounded class of the reason (never the
	// provider's words, which may quote the address).
	Failed           int            `json:"failed"`
	FailuresByReason map[string]int `json:"failures_by_reason"`
	// Ambiguous counts the leads' messages the provider may or may not
	// have, waiting for an operator (`enqueue messages`).
	Ambiguous int `json:"ambiguous"`
}

// noLeads is the source of a shop's one row when it had no leads in the
// range: a shop whose leads stopped is worth seeing.
const noLeads = "none"

// shopReport is one shop's rows, one per source, by source name.
func shopReport(t lead.Tenant, leads []store.ReportLead, problems []store.ReportMessageProblem) []reportRow {
	bySource := map[lead.Source][]store.ReportLead{}
	for _, l := range leads {
		bySource[l.Source] = append(bySource[l.Source], l)
	}
	if len(bySource) == 0 {
		return []reportRow{{Shop: t.Name, Source: noLeads, FailuresByReason: map[string]int{}}}
	}
	rows := make([]reportRow, 0, len(bySource))
	for source, ls := range bySource {
		row := reportRow{Shop: t.Name, Source: string(source), Leads: len(ls), FailuresByReason: map[string]int{}}
		var toText, inWindow, fromCRM []float64
		var replied, booked, optedOut int
		for _, l := range ls {
			if l.Replied {
				replied++
			}
			if l.Booked {
				booked++
			}
			if l.OptedOut {
				optedOut++
			}
			if l.FirstTextAt.IsZero() {
				continue
			}
			row.Texted++
			toText = append(toText, seconds(l.FirstTextAt.Sub(l.FirstSeenAt)))
			// The shop's sending hours, less its closed days when its
			// first answer waits them out.
			if open, err := t.FirstTextOpenBetween(l.FirstSeenAt, l.FirstTextAt); err == nil {
				inWindow = append(inWindow, seconds(open))
			}
			if !l.CRMCreatedAt.IsZero() {
				fromCRM = append(fromCRM, seconds(l.FirstTextAt.Sub(l.CRMCreatedAt)))
			}
		}
		row.MedianToTextSeconds, row.P90ToTextSeconds = percentile(toText, 0.5), percentile(toText, 0.9)
		row.MedianInWindowSeconds, row.P90InWindowSeconds = percentile(inWindow, 0.5), percentile(inWindow, 0.9)
		row.MedianFromCRMSeconds, row.P90FromCRMSeconds = percentile(fromCRM, 0.5), percentile(fromCRM, 0.9)
		row.ReplyRate, row.BookedRate, row.OptOutRate = rate(replied, len(ls)), rate(booked, len(ls)), rate(optedOut, len(ls))
		for _, p := range problems {
			switch {
			case p.Source != source:
			case p.Status == lead.MessageAmbiguous:
				row.Ambiguous += p.Count
			default:
				row.Failed += p.Count
				row.FailuresByReason[string(p.Channel)+": "+failureClass(p.Reason)] += p.Count
			}
		}
		rows = append(rows, row)
	}
	slices.SortFunc(rows, func(a, b reportRow) int { return cmp.Compare(a.Source, b.Source) })
	return rows
}

// seconds is d in seconds; a negative d (a CRM clock ahead of ours) is 0.
func seconds(d time.Duration) float64 { return max(0, d.Seconds()) }

// percentile is the p-th percentile of xs with linear interpolation
// between the two nearest values, as Postgres' percentile_cont computes
// it; nil when xs is empty.
func percentile(xs []float64, p float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	sorted := slices.Clone(xs)
	slices.Sort(sorted)
	pos := p * float64(len(sorted)-1)
	lo := int(math.Floor(pos))
	v := sorted[lo]
	if lo+1 < len(sorted) {
		v += (pos - float64(lo)) * (sorted[lo+1] - sorted[lo])
	}
	return &v
}

// rate is n of total, nil when total is zero.
func rate(n, total int) *float64 {
	if total == 0 {
		return nil
	}
	r := float64(n) / float64(total)
	return &r
}

// permanentCode finds a provider's error code in a send error
// (messaging.SendError: "send failed (permanent, code 21614): ...").
var permanentCode = regexp.MustCompile(`\(permanent, code (\d{1,6})\)`)

// failureClass names why a message failed from its recorded reason, in
// a few bounded words: the reason itself is the provider's or the sweep's
// sentence, and may quote the customer's address.
func failureClass(reason string) string {
	switch {
	case strings.HasPrefix(reason, "bounce"):
		return "bounced"
	case strings.HasPrefix(reason, "dropped"):
		return "dropped by the provider"
	case strings.Contains(reason, "no job is left to send it"):
		return "send job gone"
	case strings.Contains(reason, "gave up after the last attempt"):
		return "retries exhausted"
	}
	if m := permanentCode.FindStringSubmatch(reason); m != nil {
		return "refused by the provider (code " + m[1] + ")"
	}
	if strings.Contains(reason, "(permanent)") {
		return "refused by the provider"
	}
	return "other"
}
