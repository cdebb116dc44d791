package sandbox

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// twilioDateLayout is the RFC 2822 form Twilio uses for every date in the
// 2010-04-01 API ("Thu, 24 Aug 2023 05:01:45 +0000").
const twilioDateLayout = time.RFC1123Z

// twilioMaxBody is the longest body Twilio accepts (21617 above it).
const twilioMaxBody = 1600

// twilioE164 is the shape Twilio requires of a To number: a plus, a
// non-zero country code digit and at most 15 digits in all.
var twilioE164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

// twilioAlphaSender is an alphanumeric sender ID: up to 11 letters, digits
// and spaces with at least one letter.
var twilioAlphaSender = regexp.MustCompile(`^[A-Za-z0-9 ]{1,11}$`)

// twilioShortCode is a US/CA short code.
var twilioShortCode = regexp.MustCompile(`^[0-9]{5,6}$`)

// TwilioMessage is a message the fake accepted, as Messages returns it.
type TwilioMessage struct {
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

// Twilio is a fake of Twilio's Programmable Messaging API (2010-04-01
// Messages resource) that the real twilio-go SDK can talk to. It checks
// credentials and parameters the way Twilio does, answers with Twilio's
// error codes and JSON shapes, keeps the accepted messages in memory for
// tests to inspect, and lists them back with Twilio's paging envelope so
// the reconcile-after-ambiguous-failure path can be exercised for real.
//
// The fake "sends" instantly: the create answer says queued (or accepted
// for a Messaging Service without From) with no date_sent, as Twilio does,
// and every later read shows the message sent at its creation time.
type Twilio struct {
	accountSID string
	authToken  string
	faults     faults

	mu       sync.Mutex
	now      func() time.Time
	messages []twilioRecord
	optedOut map[string]bool
}

// twilioRecord is one stored message with what the fake derived from it.
type twilioRecord struct {
	TwilioMessage
	numSegments int
}

// NewTwilio returns a fake Twilio account that accepts only accountSID and
// authToken as Basic credentials.
func NewTwilio(accountSID, authToken string) *Twilio {
	return &Twilio{
		accountSID: accountSID,
		authToken:  authToken,
		now:        time.Now,
		optedOut:   make(map[string]bool),
	}
}

// SetClock replaces the clock that stamps messages and evaluates DateSent
// filters, so tests can place messages in time.
func (t *Twilio) SetClock(now func() time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.now = now
}

// AddFault queues f after the faults already queued. The matching requests
// are answered with it before any processing, so nothing is recorded for
// them, unless f.After says to create the message first.
func (t *Twilio) AddFault(f Fault) { t.faults.add(f) }

// ClearFaults removes every queued fault.
func (t *Twilio) ClearFaults() { t.faults.clear() }

// Faults returns the queued faults, each Count showing the uses left.
func (t *Twilio) Faults() []Fault { return t.faults.active() }

// FaultTally counts what the faults did so far; with Messages it tells
// what Twilio created from what the client was told.
func (t *Twilio) FaultTally() FaultTally { return t.faults.counts() }

// SeedFaults resets the generator Fault.Rate draws from (DefaultFaultSeed
// at first), so a chaos run can be replayed.
func (t *Twilio) SeedFaults(seed int64) { t.faults.seed(seed) }

// OptOut records that number texted STOP: Twilio then refuses every message
// to it with 21610 until it opts back in.
func (t *Twilio) OptOut(number string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.optedOut[number] = true
}

// OptIn records that number texted START, lifting an earlier OptOut.
func (t *Twilio) OptIn(number string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.optedOut, number)
}

// Messages returns a copy of every accepted message in arrival order.
func (t *Twilio) Messages() []TwilioMessage {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]TwilioMessage, len(t.messages))
	for i, r := range t.messages {
		out[i] = r.TwilioMessage
	}
	return out
}

// ServeHTTP serves the Messages resource under Twilio's real paths, with
// the queued faults.
func (t *Twilio) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t.faults.serve(w, r, t.serve, t.writeFault)
}

// serve routes a request the faults let through.
func (t *Twilio) serve(w http.ResponseWriter, r *http.Request) {
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
func (t *Twilio) authorized(r *http.Request) bool {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return false
	}
	userOK := subtle.ConstantTimeCompare([]byte(user), []byte(t.accountSID)) == 1
	passOK := subtle.ConstantTimeCompare([]byte(pass), []byte(t.authToken)) == 1
	return userOK && passOK
}

// createMessage validates the form in the order Twilio reports problems and
// stores the message.
func (t *Twilio) createMessage(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		t.writeError(w, http.StatusBadRequest, 20001, "Unable to parse request body")
		return
	}
	to := r.PostForm.Get("To")
	from := r.PostForm.Get("From")
	serviceSID := r.PostForm.Get("MessagingServiceSid")
	body := r.PostForm.Get("Body")

	var validity int
	if v := r.PostForm.Get("ValidityPeriod"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 36000 {
			t.writeError(w, http.StatusBadRequest, 21609, "Invalid ValidityPeriod: "+v)
			return
		}
		validity = n
	}

	switch {
	case to == "":
		t.writeError(w, http.StatusBadRequest, 21604, "A 'To' phone number is required.")
		return
	case !twilioE164.MatchString(to):
		t.writeError(w, http.StatusBadRequest, 21211, fmt.Sprintf("Invalid 'To' Phone Number: %s", to))
		return
	case from == "" && serviceSID == "":
		t.writeError(w, http.StatusBadRequest, 21603, "A 'From' phone number is required.")
		return
	case from != "" && !twilioValidSender(from):
		t.writeError(w, http.StatusBadRequest, 21212, fmt.Sprintf("The 'From' number %s is not a valid phone number, shortcode, or alphanumeric sender ID.", from))
		return
	case body == "":
		t.writeError(w, http.StatusBadRequest, 21602, "Message body is required.")
		return
	case utf8.RuneCountInString(body) > twilioMaxBody:
		t.writeError(w, http.StatusBadRequest, 21617, "The concatenated message body exceeds the 1600 character limit.")
		return
	}

	t.mu.Lock()
	if t.optedOut[to] {
		t.mu.Unlock()
		t.writeError(w, http.StatusBadRequest, 21610, "Attempt to send to unsubscribed recipient")
		return
	}
	rec := twilioRecord{
		TwilioMessage: TwilioMessage{
			Sid:                 twilioSid("SM"),
			To:                  to,
			From:                from,
			MessagingServiceSID: serviceSID,
			Body:                body,
			StatusCallback:      r.PostForm.Get("StatusCallback"),
			ValidityPeriod:      validity,
			CreatedAt:           t.now().UTC().Truncate(time.Second),
		},
		numSegments: twilioSegments(body),
	}
	t.messages = append(t.messages, rec)
	t.mu.Unlock()

	t.writeJSON(w, http.StatusCreated, t.resource(rec, false))
}

// fetchMessage answers one message by sid.
func (t *Twilio) fetchMessage(w http.ResponseWriter, r *http.Request, sid string) {
	t.mu.Lock()
	var (
		found twilioRecord
		ok    bool
	)
	for _, m := range t.messages {
		if m.Sid == sid {
			found, ok = m, true
			break
		}
	}
	t.mu.Unlock()
	if !ok {
		t.writeNotFound(w, r)
		return
	}
	t.writeJSON(w, http.StatusOK, t.resource(found, true))
}

// twilioListFilter is the parsed query of a Messages list request.
type twilioListFilter struct {
	to, from string
	// on, onOrAfter, onOrBefore are the DateSent bounds; dateOnly says
	// whether each was given as YYYY-MM-DD (compared by UTC day).
	on, onOrAfter, onOrBefore *twilioDateBound
}

// twilioDateBound is one DateSent bound.
type twilioDateBound struct {
	t        time.Time
	dateOnly bool
}

// listMessages answers a page of messages, newest first, with Twilio's
// envelope. Paging follows Twilio: PageSize (default 50, at most 1000),
// Page, and an opaque PageToken naming the last message of the previous
// page so pages stay stable while new messages arrive.
func (t *Twilio) listMessages(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	filter := twilioListFilter{to: q.Get("To"), from: q.Get("From")}
	for _, p := range []struct {
		name string
		dst  **twilioDateBound
	}{
		{"DateSent", &filter.on},
		{"DateSent>", &filter.onOrAfter},
		{"DateSent<", &filter.onOrBefore},
	} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		b, err := twilioParseDateBound(v)
		if err != nil {
			t.writeError(w, http.StatusBadRequest, 20001, fmt.Sprintf("Invalid value for %s: %s", p.name, v))
			return
		}
		*p.dst = b
	}

	pageSize := 50
	if v := q.Get("PageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.writeError(w, http.StatusBadRequest, 20001, "Invalid PageSize: "+v)
			return
		}
		pageSize = min(n, 1000)
	}
	page := 0
	if v := q.Get("Page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			t.writeError(w, http.StatusBadRequest, 20001, "Invalid Page: "+v)
			return
		}
		page = n
	}

	t.mu.Lock()
	var matched []twilioRecord
	for i := len(t.messages) - 1; i >= 0; i-- {
		if filter.matches(t.messages[i]) {
			matched = append(matched, t.messages[i])
		}
	}
	t.mu.Unlock()

	start := page * pageSize
	if token := q.Get("PageToken"); strings.HasPrefix(token, "PA") {
		after := strings.TrimPrefix(token, "PA")
		for i, m := range matched {
			if m.Sid == after {
				start = i + 1
				break
			}
		}
	}
	start = min(start, len(matched))
	end := min(start+pageSize, len(matched))
	pageItems := matched[start:end]

	items := make([]twilioMessageResource, len(pageItems))
	for i, m := range pageItems {
		items[i] = t.resource(m, true)
	}

	// The page URIs echo the caller's filters, as Twilio's do; the SDK
	// follows next_page_uri verbatim.
	base := r.URL.Path
	pageURI := func(p int, token string) string {
		v := url.Values{}
		for _, k := range []string{"To", "From", "DateSent", "DateSent>", "DateSent<"} {
			if s := q.Get(k); s != "" {
				v.Set(k, s)
			}
		}
		v.Set("PageSize", strconv.Itoa(pageSize))
		v.Set("Page", strconv.Itoa(p))
		if token != "" {
			v.Set("PageToken", token)
		}
		return base + "?" + v.Encode()
	}
	env := twilioListEnvelope{
		FirstPageURI: pageURI(0, ""),
		URI:          pageURI(page, q.Get("PageToken")),
		Page:         page,
		PageSize:     pageSize,
		Start:        start,
		End:          max(start, end-1),
		Messages:     items,
	}
	if end < len(matched) {
		next := pageURI(page+1, "PA"+matched[end-1].Sid)
		env.NextPageURI = &next
	}
	if page > 0 {
		prev := pageURI(page-1, "")
		env.PreviousPageURI = &prev
	}
	t.writeJSON(w, http.StatusOK, env)
}

// matches reports whether m passes every filter.
func (f twilioListFilter) matches(m twilioRecord) bool {
	if f.to != "" && m.To != f.to {
		return false
	}
	if f.from != "" && m.From != f.from {
		return false
	}
	sent := m.CreatedAt.UTC()
	day := func(t time.Time) time.Time {
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
	if b := f.on; b != nil {
		if b.dateOnly && !day(sent).Equal(day(b.t)) || !b.dateOnly && !sent.Equal(b.t) {
			return false
		}
	}
	if b := f.onOrAfter; b != nil {
		if b.dateOnly && day(sent).Before(day(b.t)) || !b.dateOnly && sent.Before(b.t) {
			return false
		}
	}
	if b := f.onOrBefore; b != nil {
		if b.dateOnly && day(sent).After(day(b.t)) || !b.dateOnly && sent.After(b.t) {
			return false
		}
	}
	return true
}

// twilioParseDateBound accepts the forms Twilio and its SDKs send for
// DateSent filters: YYYY-MM-DD, or RFC 3339 (what twilio-go sends).
func twilioParseDateBound(v string) (*twilioDateBound, error) {
	if d, err := time.Parse(time.DateOnly, v); err == nil {
		return &twilioDateBound{t: d, dateOnly: true}, nil
	}
	ts, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil, err
	}
	return &twilioDateBound{t: ts.UTC()}, nil
}

// twilioMessageResource is the Message resource as Twilio renders it;
// nullable fields are pointers so they encode as null.
type twilioMessageResource struct {
	AccountSID          string            `json:"account_sid"`
	APIVersion          string            `json:"api_version"`
	Body                string            `json:"body"`
	DateCreated         string            `json:"date_created"`
	DateSent            *string           `json:"date_sent"`
	DateUpdated         string            `json:"date_updated"`
	Direction           string            `json:"direction"`
	ErrorCode           *int              `json:"error_code"`
	ErrorMessage        *string           `json:"error_message"`
	From                *string           `json:"from"`
	MessagingServiceSID *string           `json:"messaging_service_sid"`
	NumMedia            string            `json:"num_media"`
	NumSegments         string            `json:"num_segments"`
	Price               *string           `json:"price"`
	PriceUnit           string            `json:"price_unit"`
	Sid                 string            `json:"sid"`
	Status              string            `json:"status"`
	SubresourceURIs     map[string]string `json:"subresource_uris"`
	To                  string            `json:"to"`
	URI                 string            `json:"uri"`
}

// twilioListEnvelope is Twilio's page envelope for list answers.
type twilioListEnvelope struct {
	End             int                     `json:"end"`
	FirstPageURI    string                  `json:"first_page_uri"`
	NextPageURI     *string                 `json:"next_page_uri"`
	Page            int                     `json:"page"`
	PageSize        int                     `json:"page_size"`
	PreviousPageURI *string                 `json:"previous_page_uri"`
	Start           int                     `json:"start"`
	URI             string                  `json:"uri"`
	Messages        []twilioMessageResource `json:"messages"`
}

// resource renders m. The create answer (sent false) shows the message
// still queued; later reads show it sent at its creation time.
func (t *Twilio) resource(m twilioRecord, sent bool) twilioMessageResource {
	uri := fmt.Sprintf("/2010-04-01/Accounts/%s/Messages/%s", t.accountSID, m.Sid)
	created := m.CreatedAt.Format(twilioDateLayout)
	res := twilioMessageResource{
		AccountSID:      t.accountSID,
		APIVersion:      "2010-04-01",
		Body:            m.Body,
		DateCreated:     created,
		DateUpdated:     created,
		Direction:       "outbound-api",
		NumMedia:        "0",
		NumSegments:     strconv.Itoa(m.numSegments),
		PriceUnit:       "USD",
		Sid:             m.Sid,
		Status:          "queued",
		SubresourceURIs: map[string]string{"media": uri + "/Media.json", "feedback": uri + "/Feedback.json"},
		To:              m.To,
		URI:             uri + ".json",
	}
	if m.From != "" {
		res.From = &m.From
	}
	if m.MessagingServiceSID != "" {
		res.MessagingServiceSID = &m.MessagingServiceSID
		if m.From == "" {
			// Twilio picks the sender from the service's pool later and
			// counts segments only then.
			res.Status = "accepted"
			res.NumSegments = "0"
		}
	}
	if sent {
		res.Status = "sent"
		res.DateSent = &created
		res.NumSegments = strconv.Itoa(m.numSegments)
	}
	return res
}

// twilioError is Twilio's JSON error body; twilio-go decodes it into
// client.TwilioRestError.
type twilioError struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
}

// writeError answers Twilio's JSON error shape.
func (t *Twilio) writeError(w http.ResponseWriter, status, code int, msg string) {
	t.writeJSON(w, status, twilioError{
		Code:     code,
		Message:  msg,
		MoreInfo: fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code),
		Status:   status,
	})
}

// writeNotFound answers Twilio's 20404 for an unknown resource.
func (t *Twilio) writeNotFound(w http.ResponseWriter, r *http.Request) {
	t.writeError(w, http.StatusNotFound, 20404, fmt.Sprintf("The requested resource %s was not found", r.URL.Path))
}

// writeFault answers an injected fault the way Twilio or the gateway in
// front of it does.
func (t *Twilio) writeFault(w http.ResponseWriter, f Fault) {
	if f.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(f.RetryAfter.Seconds()))))
	}
	if f.EmptyBody {
		w.Header().Set("Content-Length", "0")
		w.WriteHeader(f.Status)
		return
	}
	code, msg := f.Code, http.StatusText(f.Status)
	if code == 0 {
		switch {
		case f.Status == http.StatusTooManyRequests:
			code = 20429
		case f.Status >= 500:
			code = 20500
		default:
			code = f.Status
		}
	}
	if m, ok := twilioErrorMessage(code); ok {
		msg = m
	}
	t.writeError(w, f.Status, code, msg)
}

// twilioErrorMessage returns Twilio's message for the codes faults
// usually inject, ok false for others.
func twilioErrorMessage(code int) (msg string, ok bool) {
	switch code {
	case 20003:
		return "Authenticate", true
	case 20429:
		return "Too Many Requests", true
	case 20500:
		return "Internal Server Error", true
	case 20503:
		return "Service Unavailable", true
	case 21211:
		return "Invalid 'To' Phone Number", true
	case 21408:
		return "Permission to send an SMS has not been enabled for the region indicated by the 'To' number", true
	case 21606:
		return "The 'From' phone number provided is not a valid message-capable Twilio phone number for this destination/account", true
	case 21610:
		return "Attempt to send to unsubscribed recipient", true
	case 21612:
		return "The 'To' phone number is not currently reachable via SMS", true
	case 21614:
		return "'To' number is not a valid mobile number", true
	}
	return "", false
}

// writeJSON answers v as JSON.
func (t *Twilio) writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// twilioValidSender reports whether from is something Twilio accepts as a
// sender: an E.164 number, a short code or an alphanumeric sender ID.
func twilioValidSender(from string) bool {
	if twilioE164.MatchString(from) || twilioShortCode.MatchString(from) {
		return true
	}
	return twilioAlphaSender.MatchString(from) && strings.ContainsAny(strings.ToLower(from), "abcdefghijklmnopqrstuvwxyz")
}

// twilioSid returns a Twilio-style sid: a two-letter prefix and 32 hex
// digits.
func twilioSid(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return prefix + hex.EncodeToString(b[:])
}

// twilioGSM7 and twilioGSM7Ext are the GSM 03.38 basic and extension
// characters; anything else forces UCS-2 and shorter segments.
const (
	twilioGSM7    = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	twilioGSM7Ext = "^{}\\[~]|€\f"
)

// twilioSegments counts the SMS segments body needs, as Twilio bills them.
func twilioSegments(body string) int {
	septets, gsm := 0, true
	for _, r := range body {
		switch {
		case strings.ContainsRune(twilioGSM7, r):
			septets++
		case strings.ContainsRune(twilioGSM7Ext, r):
			septets += 2
		default:
			gsm = false
		}
	}
	if gsm {
		if septets <= 160 {
			return 1
		}
		return (septets + 152) / 153
	}
	units := len(utf16.Encode([]rune(body)))
	if units <= 70 {
		return 1
	}
	return (units + 66) / 67
}
