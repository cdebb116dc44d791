package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// The report's three shapes: an aligned table for a terminal, CSV with a
// header row and JSON (an array of objects with snake_case keys) for
// spreadsheets and scripts. CSV and JSON carry seconds and fractions; the
// table shows durations and percentages.

// reportColumns are the CSV header, in the order of reportRow's fields.
var reportColumns = []string{"shop", "source", "leads", "texted",
	"median_to_text_seconds", "p90_to_text_seconds", "median_in_window_seconds", "p90_in_window_seconds",
	"median_from_crm_seconds", "p90_from_crm_seconds", "reply_rate", "booked_rate", "opt_out_rate",
	"failed", "failures_by_reason", "ambiguous"}

const notApplicable = "n/a"

func writeReportCSV(w io.Writer, rows []reportRow) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(reportColumns); err != nil {
		return err
	}
	num := func(v *float64) string {
		if v == nil {
			return notApplicable
		}
		return strconv.FormatFloat(*v, 'f', -1, 64)
	}
	for _, r := range rows {
		if err := cw.Write([]string{r.Shop, r.Source, strconv.Itoa(r.Leads), strconv.Itoa(r.Texted),
			num(r.MedianToTextSeconds), num(r.P90ToTextSeconds), num(r.MedianInWindowSeconds), num(r.P90InWindowSeconds),
			num(r.MedianFromCRMSeconds), num(r.P90FromCRMSeconds), num(r.ReplyRate), num(r.BookedRate), num(r.OptOutRate),
			strconv.Itoa(r.Failed), reasons(r.FailuresByReason), strconv.Itoa(r.Ambiguous)}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func writeReportJSON(w io.Writer, rows []reportRow) error {
	if rows == nil {
		rows = []reportRow{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rows)
}

func writeReportTable(w io.Writer, rows []reportRow) error {
	if len(rows) == 0 {
		_, err := fmt.Fprintln(w, "no tenants yet (add one with `enqueue tenant add`)")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "SHOP\tSOURCE\tLEADS\tTEXTED\tTO TEXT (MEDIAN / P90)\tIN WINDOW (MEDIAN / P90)\tFROM CRM (MEDIAN / P90)\tREPLIED\tBOOKED\tOPTED OUT\tAMBIGUOUS\tFAILED")
	for _, r := range rows {
		failed := strconv.Itoa(r.Failed)
		if r.Failed > 0 {
			failed += " (" + reasons(r.FailuresByReason) + ")"
		}
		// The failures, the one wide cell, come last.
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", r.Shop, r.Source, r.Leads, r.Texted,
			pair(r.MedianToTextSeconds, r.P90ToTextSeconds), pair(r.MedianInWindowSeconds, r.P90InWindowSeconds),
			pair(r.MedianFromCRMSeconds, r.P90FromCRMSeconds), percent(r.ReplyRate), percent(r.BookedRate), percent(r.OptOutRate),
			r.Ambiguous, failed)
	}
	return tw.Flush()
}

// pair shows a median and a p90 as durations: "45s / 2m10s".
func pair(median, p90 *float64) string {
	if median == nil || p90 == nil {
		return notApplicable
	}
	return duration(*median) + " / " + duration(*p90)
}

// duration shows seconds to the second, as time.Duration writes them
// ("2m10s", "26h0m5s").
func duration(s float64) string {
	return (time.Duration(s * float64(time.Second))).Round(time.Second).String()
}

func percent(v *float64) string {
	if v == nil {
		return notApplicable
	}
	return strconv.FormatFloat(*v*100, 'f', 1, 64) + "%"
}

// reasons lists failures by reason, most first, then by name:
// "sms: retries exhausted 2; email: bounced 1".
func reasons(by map[string]int) string {
	keys := slices.Collect(maps.Keys(by))
	slices.SortFunc(keys, func(a, b string) int {
		if by[a] != by[b] {
			return by[b] - by[a]
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, k+" "+strconv.Itoa(by[k]))
	}
	return strings.Join(parts, "; ")
}
