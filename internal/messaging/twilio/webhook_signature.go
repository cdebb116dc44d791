package twilio

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/twilio/twilio-go/client"

	"github.com/leadorch/lead-orchestrator/internal/messaging"
)

// SignatureHeader carries Twilio's signature of a webhook request.
const SignatureHeader = "X-Twilio-Signature"

// verify checks a webhook's X-Twilio-Signature and returns its form. The
// body is parsed as a form on its own, never mixed with the URL's query
// (r.Form would): the signature covers the query as part of the URL. A
// body that is not a form cannot be verified either, so it is an
// unverified request (401), not a malformed one (400) that a known tenant
// alone would reach. Errors wrap messaging.ErrWebhookUnverified and never
// hold the token or a signature.
func (w *Webhooks) verify(publicURL string, h http.Header, body []byte) (url.Values, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, unverified("the body is not a form")
	}
	signature := h.Get(SignatureHeader)
	if signature == "" {
		return nil, unverified(SignatureHeader + " is missing")
	}
	if !validSignature(w.authToken, publicURL, form, signature) {
		return nil, unverified(SignatureHeader + " does not verify")
	}
	return form, nil
}

// validSignature checks signature, the base64 HMAC-SHA1 keyed with the
// account's auth token of publicURL followed by every POST parameter's
// name and value, sorted by name. publicURL must be the exact URL Twilio
// called, scheme, host and query included, as configured, not as rebuilt
// from a request that came through a proxy. twilio-go's validator checks
// it, and also accepts the signature of publicURL with its port added or
// removed, as Twilio's own libraries do. An empty token or signature never
// verifies: an HMAC with an empty key is one anyone can compute.
//
// A repeated parameter is signed by Twilio once per value, values sorted
// (twilio-python's and twilio-node's validators; twilio-python's
// test_compute_signature_duplicate vectors), but twilio-go's Validate
// takes one value a name and so refused such a request, and ValidateBody
// reads only the first value. The string Twilio signs for a name is
// name+v1+name+v2...; giving Validate the value v1+name+v2... for that
// name makes it sign exactly that string, so twilio-go still does the
// port handling and the constant-time compare.
func validSignature(authToken, publicURL string, form url.Values, signature string) bool {
	if authToken == "" || signature == "" {
		return false
	}
	params := make(map[string]string, len(form))
	for name, values := range form {
		values = slices.Clone(values)
		slices.Sort(values)
		params[name] = strings.Join(values, name)
	}
	validator := client.NewRequestValidator(authToken) // Validate has a pointer receiver
	return validator.Validate(publicURL, params, signature)
}

// unverified is a request that did not prove it is Twilio's, for reason.
func unverified(reason string) error {
	return fmt.Errorf("%w: twilio: %s", messaging.ErrWebhookUnverified, reason)
}
