package faketwilio

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// maxBody is the longest body Twilio accepts (21617 above it).
const maxBody = 1600

// e164 is the shape Twilio requires of a To number: a plus, a
// non-zero country code digit and at most 15 digits in all.
var e164 = regexp.MustCompile(`^\+[1-9][0-9]{1,14}$`)

// alphaSender is an alphanumeric sender ID: up to 11 letters, digits
// and spaces with at least one letter.
var alphaSender = regexp.MustCompile(`^[A-Za-z0-9 ]{1,11}$`)

// shortCode is a US/CA short code.
var shortCode = regexp.MustCompile(`^[0-9]{5,6}$`)

// createMessage validates the form in the order Twilio reports problems and
// stores the message.
func (t *API) createMessage(w http.ResponseWriter, r *http.Request) {
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
	case !e164.MatchString(to):
		t.writeError(w, http.StatusBadRequest, 21211, fmt.Sprintf("Invalid 'To' Phone Number: %s", to))
		return
	case from == "" && serviceSID == "":
		t.writeError(w, http.StatusBadRequest, 21603, "A 'From' phone number is required.")
		return
	case from != "" && !validSender(from):
		t.writeError(w, http.StatusBadRequest, 21212, fmt.Sprintf("The 'From' number %s is not a valid phone number, shortcode, or alphanumeric sender ID.", from))
		return
	case body == "":
		t.writeError(w, http.StatusBadRequest, 21602, "Message body is required.")
		return
	case utf8.RuneCountInString(body) > maxBody:
		t.writeError(w, http.StatusBadRequest, 21617, "The concatenated message body exceeds the 1600 character limit.")
		return
	}

	t.mu.Lock()
	if t.optedOut[to] {
		t.mu.Unlock()
		t.writeError(w, http.StatusBadRequest, 21610, "Attempt to send to unsubscribed recipient")
		return
	}
	if t.landlines[to] {
		t.mu.Unlock()
		t.writeError(w, http.StatusBadRequest, 21614, "'To' number is not a valid mobile number")
		return
	}
	rec := storedMessage{
		Message: Message{
			Sid:                 newSid("SM"),
			To:                  to,
			From:                from,
			MessagingServiceSID: serviceSID,
			Body:                body,
			StatusCallback:      r.PostForm.Get("StatusCallback"),
			ValidityPeriod:      validity,
			CreatedAt:           t.Now().UTC().Truncate(time.Second),
		},
		numSegments: segments(body),
		errorCode:   t.refusals[to],
	}
	t.messages = append(t.messages, rec)
	t.mu.Unlock()

	t.writeJSON(w, http.StatusCreated, t.resource(rec, false))
}

// fetchMessage answers one message by sid.
func (t *API) fetchMessage(w http.ResponseWriter, r *http.Request, sid string) {
	t.mu.Lock()
	var (
		found storedMessage
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

// IsE164 reports whether number has the shape Twilio requires of a To
// number, so the simulator refuses what Twilio would.
func IsE164(number string) bool { return e164.MatchString(number) }

// validSender reports whether from is something Twilio accepts as a
// sender: an E.164 number, a short code or an alphanumeric sender ID.
func validSender(from string) bool {
	if e164.MatchString(from) || shortCode.MatchString(from) {
		return true
	}
	return alphaSender.MatchString(from) && strings.ContainsAny(strings.ToLower(from), "abcdefghijklmnopqrstuvwxyz")
}

// newSid returns a Twilio-style sid: a two-letter prefix and 32 hex
// digits.
func newSid(prefix string) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return prefix + hex.EncodeToString(b[:])
}

// gsm7 and gsm7Ext are the GSM 03.38 basic and extension
// characters; anything else forces UCS-2 and shorter segments.
const (
	gsm7    = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsm7Ext = "^{}\\[~]|€\f"
)

// segments counts the SMS segments body needs, as Twilio bills them.
func segments(body string) int {
	septets, gsm := 0, true
	for _, r := range body {
		switch {
		case strings.ContainsRune(gsm7, r):
			septets++
		case strings.ContainsRune(gsm7Ext, r):
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
