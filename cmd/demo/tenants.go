package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/credentials"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/sandbox"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// ensureTenant creates the demo shop's tenant, or, on a DATABASE_URL that
// an earlier run used (the private cluster's database is fresh every run),
// brings that run's tenant up to date: the demo shops change between
// versions (a shop may have moved to another CRM).
func ensureTenant(ctx context.Context, st *store.Store, keys *credentials.Keyring, shop sandbox.DemoShop, i int) (lead.Tenant, error) {
	domain := strings.Fields(strings.ToLower(shop.Name))[0] + ".example.com"
	t := lead.Tenant{
		Name: shop.Name, CRMKind: shop.CRM, CRMLocationID: shop.LocationID, CRMClientID: shop.ClientID,
		TimeZone: shop.TimeZone, PollInterval: 5 * time.Second,
		// The demo runs at any hour.
		QuietHours: lead.AllDay, QuietRule: lead.QuietRuleNone,
		SMSFrom:   fmt.Sprintf("+1512555%04d", 100+i),
		EmailFrom: "service@" + domain, EmailFromName: shop.Name,
		// Where a customer's reply is forwarded.
		NotifyEmail: "owner@" + domain,
		// Where calls to the shop's number ring (and, in the sandbox, go
		// unanswered when the demo says so).
		ShopPhone: fmt.Sprintf("+1512555%04d", 900+i),
		// A caller the shop missed has no consent on record; the answer to
		// the call they started may go without it (follow-ups never do).
		AllowFirstReplyWithoutConsent: true,
		// Its texts offer a booking link, every day of the week.
		Booking: demoBookingHours(),
		// Its follow-up emails carry its postal address, as the law asks.
		Compliance: lead.Compliance{PostalAddress: fmt.Sprintf("%d Main Street, Austin, TX 78701", 100+i)},
		Enabled:    true,
	}
	old, err := st.FleetFindTenant(ctx, shop.Name)
	if errors.Is(err, store.ErrNotFound) {
		if err := keys.SealFor(&t, lead.Secret(shop.Secret)); err != nil {
			return lead.Tenant{}, err
		}
		return st.CreateTenant(ctx, t)
	}
	if err != nil {
		return lead.Tenant{}, err
	}
	t.ID = old.ID
	if err := keys.SealFor(&t, lead.Secret(shop.Secret)); err != nil {
		return lead.Tenant{}, err
	}
	return st.UpdateTenant(ctx, t, &t.CRMSecret)
}

// webhookCredentials are what a demo shop's CRM calls the workers with: a
// ShopMonkey signing secret or a Tekmetric URL token, new every run.
type webhookCredentials struct {
	secret, token string
}

func (h webhookCredentials) describe() string {
	if h.token != "" {
		return "Tekmetric webhook URL token set"
	}
	return "ShopMonkey webhooks signed"
}

// giveWebhookCredentials makes t's webhook credentials and stores them as
// `enqueue tenant update` does: the signing secret sealed for t, the URL
// token only as its SHA-256.
func giveWebhookCredentials(ctx context.Context, st *store.Store, keys *credentials.Keyring, t lead.Tenant) (webhookCredentials, error) {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw) // crypto/rand.Read never fails
	var (
		h      webhookCredentials
		sealed *lead.SealedSecret
		hash   []byte
	)
	switch t.CRMKind {
	case sandbox.ProviderShopMonkey:
		h.secret = "whsec_" + base64.StdEncoding.EncodeToString(raw)
		s, err := keys.SealWebhook(t.ID, lead.Secret(h.secret))
		if err != nil {
			return h, fmt.Errorf("error sealing the webhook secret of %s: %w", t.Name, err)
		}
		sealed = &s
	case sandbox.ProviderTekmetric:
		h.token = base64.RawURLEncoding.EncodeToString(raw)
		sum := sha256.Sum256([]byte(h.token))
		hash = sum[:]
	default:
		return h, fmt.Errorf("demo shop %s is on %q, which has no webhooks", t.Name, t.CRMKind)
	}
	return h, st.SetTenantWebhookCredentials(ctx, t.ID, sealed, hash)
}

// registerWithSandbox tells the sandbox what it needs to play t's CRM and
// customers against the workers.
func registerWithSandbox(ctx context.Context, base string, t lead.Tenant, h webhookCredentials) error {
	body, err := json.Marshal(map[string]string{
		"tenant_id": t.ID.String(), "crm": t.CRMKind, "location": t.CRMLocationID,
		"webhook_secret": h.secret, "webhook_token": h.token, "sms_number": t.SMSFrom,
	})
	if err != nil {
		return err
	}
	status, answer, err := postJSON(ctx, base+"/_sandbox/simulate/tenants", body)
	if err != nil {
		return fmt.Errorf("error registering %s with the sandbox: %w", t.Name, err)
	}
	if status != http.StatusCreated {
		return fmt.Errorf("the sandbox refused %s: %d %s", t.Name, status, answer)
	}
	return nil
}

// postJSON posts body to url and returns the status and the answer.
func postJSON(ctx context.Context, url string, body []byte) (int, string, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, strings.TrimSpace(string(answer)), nil
}
