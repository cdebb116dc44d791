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

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/crm/crmset"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/webhookurl"
)

// minWebhookKeyLen bounds a webhook signing key (a crm.WebhookSigned
// CRM's, ShopMonkey's) from below: an HMAC key short enough to guess lets
// anyone sign webhooks for the shop.
const minWebhookKeyLen = 16

// webhookSecretPrefix marks a Standard Webhooks secret whose key is the
// base64 after it, as Standard Webhooks senders (ShopMonkey) show it.
const webhookSecretPrefix = "whsec_"

// webhookTokenLen is how many random bytes a webhook URL token carries
// (crm.WebhookURLToken CRMs, Tekmetric's): the token is the webhook's only
// credential, as such a CRM signs nothing.
const webhookTokenLen = 32

// webhookAuth is how the webhooks of a tenant's CRM kind authenticate, as
// the CRM registry says (crm.WebhookNone for a kind this build does not
// know): the one place this command learns which credential a CRM uses.
func webhookAuth(kind string) crm.WebhookAuth {
	k, _ := crmset.NewRegistry(crmset.Opts{}).Kind(kind)
	return k.WebhookAuth
}

// kindsWith lists, as "a or b", the registered CRM kinds whose webhooks
// authenticate by auth, for an error that says which CRMs a flag is for.
func kindsWith(auth crm.WebhookAuth) string {
	reg := crmset.NewRegistry(crmset.Opts{})
	var out []string
	for _, name := range reg.Kinds() {
		if k, _ := reg.Kind(name); k.WebhookAuth == auth {
			out = append(out, name)
		}
	}
	return strings.Join(out, " or ")
}

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
// use: the webhook routes check a signing secret for the CRMs that sign
// (crm.WebhookSigned) and a URL token for those that do not
// (crm.WebhookURLToken), nothing else.
func (f *tenantFlags) checkWebhookKind(p *tenantProblems, kind string) {
	auth := webhookAuth(kind)
	if f.webhookSecret.isGiven() && auth != crm.WebhookSigned && !p.settled["webhook_secret"] {
		p.addText("webhook_secret", fmt.Sprintf("--%s: only %s signs its webhooks with a secret, and this tenant's CRM is %s "+
			"(--new-webhook-token makes a %s webhook URL)", f.webhookSecret.given[0].flag, kindsWith(crm.WebhookSigned), kind, kindsWith(crm.WebhookURLToken)))
	}
	if f.newWebhookToken && auth != crm.WebhookURLToken {
		p.addText("webhook_token", fmt.Sprintf("--new-webhook-token: only %s webhooks carry a token in their URL, and this tenant's CRM is %s "+
			"(%s's are signed: --webhook-secret-env or --webhook-secret-file)", kindsWith(crm.WebhookURLToken), kind, kindsWith(crm.WebhookSigned)))
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

// writeWebhookToken prints a new webhook path of a URL token CRM
// (Tekmetric's), token and all: the one time it is shown.
func writeWebhookToken(w io.Writer, t lead.Tenant, token string) error {
	_, err := fmt.Fprintf(w, `%s webhook path, shown only now (only a hash of its token is kept):
  %s
Give %s this service's public URL followed by this path. If it is lost, `+
		"`enqueue tenant update --tenant %s --new-webhook-token`"+` makes a new one and the old one stops working.
`, t.CRMKind, webhookurl.CRM(t.CRMKind, t.ID.String(), token).Path(), t.CRMKind, t.ID)
	return err
}

// webhookPath is one webhook route of a tenant, as show prints it.
type webhookPath struct {
	label, path string
}

// webhookPaths are the routes the shop's CRM and Twilio call for this
// tenant, under the service's public URL (webhookurl builds them, as the
// routes' patterns). A URL token CRM's path holds its token, which is never
// shown again: only where it goes.
func webhookPaths(t lead.Tenant) []webhookPath {
	id := t.ID.String()
	var out []webhookPath
	switch webhookAuth(t.CRMKind) {
	case crm.WebhookSigned:
		out = append(out, webhookPath{t.CRMKind + " webhook", webhookurl.CRM(t.CRMKind, id, "").Path()})
	case crm.WebhookURLToken:
		// "<token>" is shown as typed, not escaped as a path segment.
		path := webhookurl.CRM(t.CRMKind, id, "").Path() + "/<token> (the token is shown only when it is made)"
		if len(t.WebhookTokenHash) == 0 {
			path = "none until --new-webhook-token makes a token"
		}
		out = append(out, webhookPath{t.CRMKind + " webhook", path})
	}
	return append(out,
		webhookPath{"twilio inbound webhook", webhookurl.TwilioSMS(id).Path()},
		webhookPath{"twilio status webhook", webhookurl.TwilioStatus(id).Path()})
}

// unusedWebhookCredentialNote flags a webhook credential for auth (a
// signing secret for crm.WebhookSigned, a URL token for
// crm.WebhookURLToken) that the tenant's CRM does not use (left from before
// a change of CRM): the routes ignore it.
func unusedWebhookCredentialNote(t lead.Tenant, auth crm.WebhookAuth) string {
	if webhookAuth(t.CRMKind) == auth {
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
