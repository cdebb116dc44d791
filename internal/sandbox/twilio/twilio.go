// Package faketwilio is a fake of Twilio's Programmable Messaging API, and
// the webhooks Twilio posts, for tests, the demo, the benchmark and the
// fault harness. It is named faketwilio, not twilio, so that a test of the
// real adapter (messaging/twilio) can import both without renaming one.
package faketwilio

import (
	"crypto/subtle"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
)

// Default credentials of the sandbox's Twilio account. They are a fake's
// keys, not secrets; Twilio's SDK wants alphanumeric ones.
const (
	DefaultAccountSID = "ACsandbox00000000000000000000000000"
	DefaultAuthToken  = "sandboxtoken0000000000000000000000"
)

// Message is a message the fake accepted, as Messages returns it.
type Message struct {
	Sid                 string
	To                  string
	From                string
	MessagingServiceSID string
	Body                string
	StatusCallback      string
	// ValidityPeriod is the seconds the sender allowed Twilio to queue the
	// message, zero when not set.
	ValidityPeriod int
	CreatedAt      time.Time
}

// API is a fake of Twilio's Programmable Messaging API (2010-04-01
// Messages resource) that the real twilio-go SDK can talk to. It checks
// credentials and parameters the way Twilio does, answers with Twilio's
// error codes and JSON shapes, keeps the accepted messages in memory for
// tests to inspect, and lists them back with Twilio's paging envelope so
// the reconcile-after-ambiguous-failure path can be exercised for real.
//
// The fake "sends" instantly: the create answer says queued (or accepted
// for a Messaging Service without From) with no date_sent, as Twilio does,
// and every later read shows the message sent at its creation time.
//
// Faults (the embedded FaultQueue) answer the matching requests before any
// processing, so nothing is recorded for them, unless Fault.After says to
// create the message first. The embedded Clock (SetClock) stamps messages
// and evaluates DateSent filters, so tests can place messages in time.
type API struct {
	fake.FaultQueue
	fake.Clock

	accountSID string
	authToken  string

	mu       sync.Mutex
	messages []storedMessage
	optedOut map[string]bool
	// landlines are refused at create (21614); refusals are the error
	// code the carrier answers each number's messages with (carrier.go).
	landlines map[string]bool
	refusals  map[string]int
}

// storedMessage is one stored message with what the fake derived from it.
type storedMessage struct {
	Message
	numSegments int
	// errorCode is the carrier's refusal of the message (0: delivered).
	errorCode int
}

// New returns a fake Twilio account that accepts only accountSID and
// authToken as Basic credentials.
func New(accountSID, authToken string) *API {
	return &API{
		accountSID: accountSID,
		authToken:  authToken,
		optedOut:   make(map[string]bool),
		landlines:  make(map[string]bool),
		refusals:   make(map[string]int),
	}
}

// AuthToken is the account's auth token, which signs the webhooks the
// simulator posts as this account.
func (t *API) AuthToken() string { return t.authToken }

// OptOut records that number texted STOP: Twilio then refuses every message
// to it with 21610 until it opts back in.
func (t *API) OptOut(number string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.optedOut[number] = true
}

// OptIn records that number texted START, lifting an earlier OptOut.
func (t *API) OptIn(number string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.optedOut, number)
}

// Messages returns a copy of every accepted message in arrival order.
func (t *API) Messages() []Message {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]Message, len(t.messages))
	for i, r := range t.messages {
		out[i] = r.Message
	}
	return out
}

// ServeHTTP serves the Messages resource under Twilio's real paths, with
// the queued faults.
func (t *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fake.Serve(&t.FaultQueue, w, r, t.serve, t.writeFault)
}

// serve routes a request the faults let through.
func (t *API) serve(w http.ResponseWriter, r *http.Request) {
	const prefix = "/2010-04-01/Accounts/"
	rest, ok := strings.CutPrefix(r.URL.Path, prefix)
	if !ok {
		t.writeNotFound(w, r)
		return
	}
	accountSID, resource, ok := strings.Cut(rest, "/")
	if !ok {
		t.writeNotFound(w, r)
		return
	}

	if !t.authorized(r) {
		t.writeError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	if accountSID != t.accountSID {
		t.writeNotFound(w, r)
		return
	}

	switch {
	case resource == "Messages.json":
		switch r.Method {
		case http.MethodPost:
			t.createMessage(w, r)
		case http.MethodGet:
			t.listMessages(w, r)
		default:
			t.writeError(w, http.StatusMethodNotAllowed, 20004, "Method not allowed")
		}
	case strings.HasPrefix(resource, "Messages/") && strings.HasSuffix(resource, ".json"):
		sid := strings.TrimSuffix(strings.TrimPrefix(resource, "Messages/"), ".json")
		if strings.Contains(sid, "/") {
			t.writeNotFound(w, r)
			return
		}
		if r.Method != http.MethodGet {
			t.writeError(w, http.StatusMethodNotAllowed, 20004, "Method not allowed")
			return
		}
		t.fetchMessage(w, r, sid)
	default:
		t.writeNotFound(w, r)
	}
}

// authorized checks the Basic credentials in constant time.
func (t *API) authorized(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return false
	}
	userOK := subtle.ConstantTimeCompare([]byte(user), []byte(t.accountSID)) == 1
	passOK := subtle.ConstantTimeCompare([]byte(pass), []byte(t.authToken)) == 1
	return userOK && passOK
}
