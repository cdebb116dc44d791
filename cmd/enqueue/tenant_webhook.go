package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/leadorch/lead-orchestrator/internal/crm/shopmonkey"
	"github.com/leadorch/lead-orchestrator/internal/crm/tekmetric"
	"github.com/leadorch/lead-orchestrator/internal/httpapi"
	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// minWebhookKeyLen bounds a ShopMonkey webhook signing key from below: an
// HMAC key short enough to guess lets anyone sign webhooks for the shop.
const minWebhookKeyLen = 16

// webhookSecretPrefix marks a Standard Webhooks secret whose key is the
// base64 after it, as ShopMonkey shows it (httpapi.VerifyStandardWebhook).
const webhookSecretPrefix = "whsec_"

// webhookTokenLen is how many random bytes a Tekmetric webhook URL token
// carries: the token is the webhook's only credential, as Tekmetric signs
// nothing.
const webhookTokenLen = 32

// webhookGiven reports whether any webhook flag was given.
func (f *tenantFlags) webhookGiven() bool {
	return f.webhookSecret.isGiven() || f.newWebhookToken
}

// readWebhookSecret reads and checks the ShopMonkey signing secret when
// its flag was given, reporting what is wrong without quoting it.
func (f *tenantFlags) readWebhookSecret(getenv func(string) string, p *tenantProblems) lead.Secret {
	if !f.webhookSecret.isGiven() {
		return ""
	}
	secret, err := f.webhookSecret.read(getenv)
	if err != nil {
		p.addText("webhook_secret", err.Error())
		return ""
	}
	if err := checkWebhookSecret(secret); err != nil {
		p.addText("webhook_secret", "--"+f.webhookSecret.given[0].flag+": "+err.Error())
		return ""
	}
	return secret
}

// checkWebhookSecret accepts what the verifier can use and nobody can
// guess: "whsec_" and a base64 key, or any other text of at least
// minWebhookKeyLen characters, used as the key as it is.
func checkWebhookSecret(secret lead.Secret) error {
	s := secret.Reveal()
	if rest, ok := strings.CutPrefix(s, webhookSecretPrefix); ok {
		key, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return fmt.Errorf("the secret starts with %q but what follows is not standard base64: copy it whole from ShopMonkey", webhookSecretPrefix)
		}
		if len(key) < minWebhookKeyLen {
			return fmt.Errorf("the key after %q is %d bytes, at least %d needed", webhookSecretPrefix, len(key), minWebhookKeyLen)
		}
		return nil
	}
	if n := utf8.RuneCountInString(s); n < minWebhookKeyLen {
		return fmt.Errorf("the secret is %d characters long: give ShopMonkey's %q secret, or at least %d characters", n, webhookSecretPrefix+"...", minWebhookKeyLen)
	}
	return nil
}

// checkWebhookKind refuses webhook flags that the tenant's CRM would never
// use: the webhook routes check a ShopMonkey tenant's signature and a
// Tekmetric tenant's URL token, nothing else.
func (f *tenantFlags) checkWebhookKind(p *tenantProblems, kind string) {
	if f.webhookSecret.isGiven() && kind != shopmonkey.Kind && !p.settled["webhook_secret"] {
		p.addText("webhook_secret", fmt.Sprintf("--%s: only ShopMonkey signs its webhooks with a secret, and this tenant's CRM is %s "+
			"(--new-webhook-token makes a Tekmetric webhook URL)", f.webhookSecret.given[0].flag, kind))
	}
	if f.newWebhookToken && kind != tekmetric.Kind {
		p.addText("webhook_token", fmt.Sprintf("--new-webhook-token: only Tekmetric webhooks carry a token in their URL, and this tenant's CRM is %s "+
			"(ShopMonkey's are signed: --webhook-secret-env or --webhook-secret-file)", kind))
	}
}

// webhookChanges are the lines update prints for the webhook flags given,
// before they are stored; keyID is the key a new secret is sealed with.
func (f *tenantFlags) webhookChanges(before lead.Tenant, keyID string) []tenantChange {
	var out []tenantChange
	show := func(field string) string {
		st, _ := settingFor(field)
		return st.show(before)
	}
	if f.webhookSecret.isGiven() {
		out = append(out, tenantChange{label: "webhook secret", before: show("webhook_secret"),
			after: "a new secret, sealed with key " + keyID})
	}
	if f.newWebhookToken {
		after := "a new token (below)"
		if len(before.WebhookTokenHash) > 0 {
			after += "; the old webhook URL stops working"
		}
		out = append(out, tenantChange{label: "webhook token", before: show("webhook_token"), after: after})
	}
	return out
}

// saveWebhookCredentials stores what the webhook flags give for t, keeping
// the credential not given as t has it: a new signing secret sealed like
// the CRM secret (bound to t's id), and a new URL token of which only the
// SHA-256 is kept. It returns t as stored and the token, which the caller
// prints once: nothing can show it again.
func (f *tenantFlags) saveWebhookCredentials(ctx context.Context, d *deps, t lead.Tenant, secret lead.Secret) (lead.Tenant, string, error) {
	if !f.webhookGiven() {
		return t, "", nil
	}
	if f.webhookSecret.isGiven() {
		sealed, err := d.keys.SealWebhook(t.ID, secret)
		if err != nil {
			return t, "", fmt.Errorf("error sealing the webhook secret: %w", err)
		}
		t.WebhookSecret = sealed
	}
	var token string
	if f.newWebhookToken {
		var err error
		if token, t.WebhookTokenHash, err = newWebhookToken(); err != nil {
			return t, "", err
		}
	}
	var newSecret *lead.SealedSecret
	if f.webhookSecret.isGiven() {
		newSecret = &t.WebhookSecret
	}
	var newHash []byte
	if f.newWebhookToken {
		newHash = t.WebhookTokenHash
	}
	if err := d.store.SetTenantWebhookCredentials(ctx, t.ID, newSecret, newHash); err != nil {
		return t, "", err
	}
	return t, token, nil
}

// newWebhookToken returns a random URL-safe token and its SHA-256, which
// is all the webhook route needs to check it.
func newWebhookToken() (token string, hash []byte, err error) {
	raw := make([]byte, webhookTokenLen)
	if _, err := rand.Read(raw); err != nil {
		return "", nil, fmt.Errorf("error reading a random webhook token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(raw)
	sum := sha256.Sum256([]byte(token))
	return token, sum[:], nil
}

// writeWebhookToken prints a new Tekmetric webhook path, token and all:
// the one time it is shown.
func writeWebhookToken(w io.Writer, t lead.Tenant, token string) error {
	_, err := fmt.Fprintf(w, `Tekmetric webhook path, shown only now (only a hash of its token is kept):
  %s
Give Tekmetric this service's public URL followed by this path. If it is lost, `+
		"`enqueue tenant update --tenant %s --new-webhook-token`"+` makes a new one and the old one stops working.
`, tekmetricWebhookPath(t, token), t.ID)
	return err
}

// tekmetricWebhookPath is the path of a Tekmetric tenant's webhook route
// (internal/httpapi/routes.go) with its token.
func tekmetricWebhookPath(t lead.Tenant, token string) string {
	return "/webhooks/tekmetric/" + t.ID.String() + "/" + token
}

// webhookPath is one webhook route of a tenant, as show prints it.
type webhookPath struct {
	label, path string
}

// webhookPaths are the routes (internal/httpapi/routes.go) the shop's CRM
// and Twilio call for this tenant, under the service's public URL. The
// Tekmetric path holds its token, which is never shown again: only where it
// goes.
func webhookPaths(t lead.Tenant) []webhookPath {
	id := t.ID.String()
	var out []webhookPath
	switch t.CRMKind {
	case shopmonkey.Kind:
		out = append(out, webhookPath{"shopmonkey webhook", "/webhooks/shopmonkey/" + id})
	case tekmetric.Kind:
		path := tekmetricWebhookPath(t, "<token>") + " (the token is shown only when it is made)"
		if len(t.WebhookTokenHash) == 0 {
			path = "none until --new-webhook-token makes a token"
		}
		out = append(out, webhookPath{"tekmetric webhook", path})
	}
	return append(out,
		webhookPath{"twilio inbound webhook", "/webhooks/twilio/" + id + "/sms"},
		webhookPath{"twilio status webhook", httpapi.TwilioStatusPath(t.ID)})
}

// unusedWebhookNote flags a webhook credential the tenant's CRM does not
// use (left from before a change of CRM): the routes ignore it.
func unusedWebhookNote(t lead.Tenant, kind string) string {
	if t.CRMKind == kind {
		return ""
	}
	return " (unused: the tenant's CRM is " + t.CRMKind + ")"
}

// errWebhookNotSaved wraps a failure to store webhook credentials after
// the tenant's other settings were saved, saying how to finish.
func errWebhookNotSaved(name string, t lead.Tenant, err error) error {
	return fmt.Errorf("%s: tenant %s (%s) is saved, but its webhook credentials are not: %w; "+
		"give the webhook flags again with `enqueue tenant update --tenant %s`", name, t.Name, t.ID, err, t.ID)
}
