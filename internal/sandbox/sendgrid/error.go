package fakesendgrid

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
)

// apiError is one entry of SendGrid's {"errors": [...]} body. Field
// is null for errors not about a field. Help is raw JSON because SendGrid
// sends a link for validation errors, null for auth errors and leaves it
// out of 429 answers.
type apiError struct {
	Field   *string         `json:"field"`
	Message string          `json:"message"`
	Help    json.RawMessage `json:"help,omitempty"`
}

// noHelp is the explicit "help": null of SendGrid's auth and
// routing errors.
func noHelp(msg string) apiError {
	return apiError{Message: msg, Help: json.RawMessage("null")}
}

// sendGridJSON answers as SendGrid does, with a Content-Length.
var sendGridJSON = fake.JSONWriter{ContentType: "application/json", ContentLength: true, Verbatim: true}

// writeErrors answers SendGrid's error JSON.
func (s *API) writeErrors(w http.ResponseWriter, status int, errs ...apiError) {
	sendGridJSON.Write(w, status, struct {
		Errors []apiError `json:"errors"`
	}{errs})
}

// writeFault answers an injected fault. A 429 always carries SendGrid's
// rate-limit headers, X-RateLimit-Reset being the epoch second the window
// reopens.
func (s *API) writeFault(w http.ResponseWriter, f fake.Fault) {
	if f.Status == http.StatusTooManyRequests {
		reset := s.Now().Add(f.RetryAfter)
		resetSec := int64(math.Ceil(float64(reset.UnixNano()) / float64(time.Second)))
		w.Header().Set("X-RateLimit-Limit", "600")
		w.Header().Set("X-RateLimit-Remaining", "0")
		w.Header().Set("X-RateLimit-Reset", strconv.FormatInt(resetSec, 10))
	}
	if f.EmptyBody {
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(f.Status)
		return
	}
	msg := strings.ToLower(http.StatusText(f.Status))
	if f.Status >= 500 && f.Status != http.StatusServiceUnavailable {
		msg = "internal error"
	}
	s.writeErrors(w, f.Status, apiError{Message: msg})
}

// newMessageID returns an id shaped like SendGrid's X-Message-Id: 22
// URL-safe base64 characters.
func newMessageID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b[:])
}
