package fakeshopmonkey

import (
	"net/http"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
)

// formatTime formats t as ShopMonkey does: UTC with milliseconds.
func formatTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// shopMonkeyJSON answers as ShopMonkey does.
var shopMonkeyJSON = fake.JSONWriter{
	ContentType: "application/json; charset=utf-8",
	EncodeError: `{"success":false,"code":"INTERNAL_ERROR","message":"cannot encode response","documentation_url":"https://shopmonkey.dev/overview/errors"}`,
}

func writeJSON(w http.ResponseWriter, status int, v any) { shopMonkeyJSON.Write(w, status, v) }

// writeError answers with ShopMonkey's error envelope.
func writeError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]any{
		"success":           false,
		"code":              code,
		"message":           message,
		"documentation_url": "https://shopmonkey.dev/overview/errors",
	})
}

// writeFault answers with f. ShopMonkey's error codes are strings, so
// f.Code is not used; the code follows the status.
func writeFault(w http.ResponseWriter, f fake.Fault) {
	if f.RetryAfter > 0 {
		fake.SetRetryAfter(w.Header(), f.RetryAfter)
	}
	if f.EmptyBody {
		w.WriteHeader(f.Status)
		return
	}
	code := "ERROR"
	switch {
	case f.Status == http.StatusTooManyRequests:
		code = "RATE_LIMIT"
	case f.Status == http.StatusServiceUnavailable:
		code = "SERVICE_UNAVAILABLE"
	case f.Status >= 500:
		code = "INTERNAL_ERROR"
	}
	writeError(w, f.Status, code, http.StatusText(f.Status))
}
