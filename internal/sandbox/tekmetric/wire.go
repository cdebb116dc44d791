package faketekmetric

import (
	"net/http"
	"strconv"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
)

// formatUTC writes t as Tekmetric writes most times: UTC with a "Z",
// milliseconds only when there are some.
func formatUTC(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.999Z") }

// formatLocal writes t as Tekmetric writes appointment times: the shop's
// wall-clock time without any offset.
func formatLocal(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("2006-01-02T15:04:05.999")
}

// formatFor writes t as table writes its record times.
func formatFor(table Table, t time.Time, loc *time.Location) string {
	if table == Appointments {
		return formatLocal(t, loc)
	}
	return formatUTC(t)
}

// parseTime reads a stored time: with an offset ("Z", "-06:00" or
// "-0600") as it says, without one in the shop's zone.
func parseTime(s string, loc *time.Location) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999Z0700"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.ParseInLocation("2006-01-02T15:04:05.999999999", s, loc)
}

// parseQueryTime reads a date filter: a date-time with or without an
// offset, or a date (its midnight in the shop's zone).
func parseQueryTime(s string, loc *time.Location) (time.Time, error) {
	if t, err := parseTime(s, loc); err == nil {
		return t, nil
	}
	return time.ParseInLocation(time.DateOnly, s, loc)
}

// inRange reports whether t is in [from, to], either bound unset
// (zero) meaning open: Tekmetric's date filters include both ends.
func inRange(t, from, to time.Time) bool {
	return (from.IsZero() || !t.Before(from)) && (to.IsZero() || !t.After(to))
}

func idText(v any) string {
	if n := fake.Int64(v); n > 0 {
		return strconv.FormatInt(n, 10)
	}
	return ""
}

func optionalID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// tekmetricJSON answers as Tekmetric does.
var tekmetricJSON = fake.JSONWriter{
	ContentType: "application/json;charset=UTF-8",
	EncodeError: `{"type":"ERROR","message":"cannot encode response","data":null,"details":{}}`,
}

func writeJSON(w http.ResponseWriter, status int, v any) { tekmetricJSON.Write(w, status, v) }

// writeError answers with Tekmetric's API error shape.
func writeError(w http.ResponseWriter, status int, message string) {
	writeJSON(w, status, map[string]any{"type": "ERROR", "message": message, "data": nil, "details": map[string]any{}})
}

// writeFault answers with f. A 429 has an empty body, as Tekmetric's
// always do; Retry-After is sent only when f sets one (Tekmetric never
// does).
func writeFault(w http.ResponseWriter, f fake.Fault) {
	if f.RetryAfter > 0 {
		fake.SetRetryAfter(w.Header(), f.RetryAfter)
	}
	if f.EmptyBody || f.Status == http.StatusTooManyRequests {
		w.WriteHeader(f.Status)
		return
	}
	writeError(w, f.Status, http.StatusText(f.Status))
}
