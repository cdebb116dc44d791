package faketwilio

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
)

// DialAnswers are the ways PlayCall can have the forwarded leg end: the
// DialCallStatus values Twilio reports to a <Dial action>. completed is a
// person, or the shop phone's voicemail, picking up.
var DialAnswers = []string{"completed", "busy", "no-answer", "failed", "canceled"}

// PlayedCall is a call PlayCall played, and what the worker answered.
type PlayedCall struct {
	CallSid string `json:"call_sid"`
	From    string `json:"from"`
	To      string `json:"to"`
	// Forwarded is true when the worker answered with a <Dial>; DialedTo,
	// Timeout and CallerID are what it asked Twilio to dial.
	Forwarded bool   `json:"forwarded"`
	DialedTo  string `json:"dialed_to,omitempty"`
	Timeout   string `json:"timeout,omitempty"`
	CallerID  string `json:"caller_id,omitempty"`
	// DialStatus is the outcome reported to the <Dial action>, empty when
	// there was no forward.
	DialStatus string `json:"dial_status,omitempty"`
	// Said is what the caller heard last (the <Say> of the final answer).
	Said string `json:"said,omitempty"`
}

// twimlResponse is the part of TwiML the fake reads.
type twimlResponse struct {
	XMLName xml.Name `xml:"Response"`
	Dial    *struct {
		Action   string `xml:"action,attr"`
		Method   string `xml:"method,attr"`
		Timeout  string `xml:"timeout,attr"`
		CallerID string `xml:"callerId,attr"`
		Number   string `xml:"Number"`
	} `xml:"Dial"`
	Say    []string  `xml:"Say"`
	Hangup *struct{} `xml:"Hangup"`
}

// PlayCall plays a customer calling the shop's number to, as Twilio does:
// it posts the signed incoming-call webhook to voiceURL (the number's
// Voice URL), reads the TwiML answer and, when it is a <Dial> with an
// action, "rings" the dialed number and posts the signed action callback
// with DialCallStatus answer (one of DialAnswers), then reads the final
// answer. Twilio resolves a relative action against the URL it called.
// An answer that is not 2xx TwiML is an error, as Twilio would play its
// "application error" to the caller.
func PlayCall(ctx context.Context, client *http.Client, voiceURL, authToken, from, to, answer string) (PlayedCall, error) {
	if !slices.Contains(DialAnswers, answer) {
		return PlayedCall{}, fmt.Errorf("answer: want one of %s, got %q", strings.Join(DialAnswers, ", "), answer)
	}
	sid := newSid("CA")
	form := urlValues(
		"CallSid", sid, "AccountSid", DefaultAccountSID, "From", from, "To", to, "Caller", from, "Called", to,
		"CallStatus", "ringing", "Direction", "inbound", "ApiVersion", "2010-04-01", "ToCountry", "US", "FromCountry", "US",
	)
	played := PlayedCall{CallSid: sid, From: from, To: to}
	first, err := postTwiML(ctx, client, voiceURL, authToken, form)
	if err != nil {
		return played, fmt.Errorf("error posting the incoming call: %w", err)
	}
	played.Said = strings.Join(first.Say, " ")
	if first.Dial == nil || first.Dial.Action == "" {
		return played, nil
	}
	played.Forwarded, played.DialedTo = true, strings.TrimSpace(first.Dial.Number)
	played.Timeout, played.CallerID, played.DialStatus = first.Dial.Timeout, first.Dial.CallerID, answer
	action, err := resolve(voiceURL, first.Dial.Action)
	if err != nil {
		return played, err
	}
	form.Set("CallStatus", "in-progress")
	form.Set("DialCallStatus", answer)
	if answer != "failed" {
		// A leg was placed: it has a sid and a duration (0 unless it
		// connected).
		form.Set("DialCallSid", newSid("CA"))
		duration := "0"
		if answer == "completed" {
			duration = "42"
		}
		form.Set("DialCallDuration", duration)
	}
	final, err := postTwiML(ctx, client, action, authToken, form)
	if err != nil {
		return played, fmt.Errorf("error posting the dial callback: %w", err)
	}
	played.Said = strings.Join(final.Say, " ")
	return played, nil
}

// resolve is the action URL as Twilio requests it: relative to the URL
// that answered.
func resolve(base, action string) (string, error) {
	b, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("voice URL: %w", err)
	}
	a, err := url.Parse(action)
	if err != nil {
		return "", fmt.Errorf("<Dial action>: %w", err)
	}
	return b.ResolveReference(a).String(), nil
}

// postTwiML posts a signed voice webhook and reads its TwiML answer.
func postTwiML(ctx context.Context, client *http.Client, target, authToken string, form url.Values) (twimlResponse, error) {
	if client == nil {
		client = http.DefaultClient
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader([]byte(form.Encode())))
	if err != nil {
		return twimlResponse{}, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", Signature(authToken, target, form))
	req.Header.Set("I-Twilio-Idempotency-Token", fake.RandomHex(16))
	resp, err := client.Do(req)
	if err != nil {
		// The *url.Error repeats the whole URL; the host is enough.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return twimlResponse{}, fmt.Errorf("webhook at %s: %w", req.URL.Host, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return twimlResponse{}, fmt.Errorf("webhook at %s answered %s: %s", req.URL.Host, resp.Status, strings.TrimSpace(string(body[:min(len(body), 512)])))
	}
	var doc twimlResponse
	if err := xml.Unmarshal(body, &doc); err != nil {
		return twimlResponse{}, fmt.Errorf("webhook at %s answered no TwiML (Twilio error 12100, document parse failure): %w", req.URL.Host, err)
	}
	return doc, nil
}
