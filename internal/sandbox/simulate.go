package sandbox

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
	fakesendgrid "github.com/leadorch/lead-orchestrator/internal/sandbox/sendgrid"
	fakeshopmonkey "github.com/leadorch/lead-orchestrator/internal/sandbox/shopmonkey"
	faketekmetric "github.com/leadorch/lead-orchestrator/internal/sandbox/tekmetric"
	faketwilio "github.com/leadorch/lead-orchestrator/internal/sandbox/twilio"
	"github.com/leadorch/lead-orchestrator/internal/webhookurl"
)

// Simulator plays what happens around a worker once the fakes hold a lead:
// the shop's CRM announcing the new lead by webhook, the customer texting
// back (an answer, STOP, START, HELP) and the customer's mailbox bouncing
// an email. Each arrives as the provider sends it, signed with the
// tenant's credentials, on the worker's real routes, so `make demo` and an
// operator with curl take the paths production takes.
//
// It knows the workers' base URLs (SetWorkers, cmd/sandbox's -worker) and
// each tenant's webhook credentials (RegisterTenant), which it never
// shows. Each request goes to the next worker in turn, as a load balancer
// in front of replicas would send it.
type Simulator struct {
	srv    *Server
	client *http.Client

	// announcing serialises AnnounceLeads, so that a lead is announced once
	// however many callers race.
	announcing sync.Mutex

	mu      sync.Mutex
	workers []string
	next    int
	tenants map[uuid.UUID]*simulatedTenant
	// The feed of what was played (simulate_events.go).
	seq    int64
	events []SimulatedEvent
}

// NewSimulator returns a simulator of the customers and CRMs of srv's
// fakes, with no workers and no tenants yet.
func NewSimulator(srv *Server) *Simulator {
	return &Simulator{srv: srv, client: &http.Client{Timeout: 10 * time.Second}, tenants: map[uuid.UUID]*simulatedTenant{}}
}

// SimulatedTenant is a tenant as the simulator plays it: where its shop is
// in a CRM fake, what its CRM signs webhooks with and the number its
// customers text. The webhook credentials are the tenant's real ones (the
// worker checks them); nothing the simulator answers contains them.
type SimulatedTenant struct {
	TenantID string
	// CRM is "shopmonkey" or "tekmetric"; Location is the ShopMonkey
	// location or the Tekmetric shop id.
	CRM      string
	Location string
	// WebhookSecret signs a ShopMonkey shop's webhooks (Standard Webhooks:
	// "whsec_" and the base64 key, or any other text used as the key).
	// WebhookToken is the secret segment of a Tekmetric shop's webhook
	// URL. A shop with neither has set up no webhook: its leads are not
	// announced, and the worker finds them by polling.
	WebhookSecret string
	WebhookToken  string
	// SMSNumber is the shop's number (E.164), the To of its customers'
	// texts.
	SMSNumber string
}

// SimulatedTenantView is a registered tenant as the control routes show
// it: whether each webhook credential is set, never the credential.
type SimulatedTenantView struct {
	TenantID         string `json:"tenant_id"`
	CRM              string `json:"crm"`
	Location         string `json:"location"`
	SMSNumber        string `json:"sms_number,omitempty"`
	WebhookSecretSet bool   `json:"webhook_secret_set"`
	WebhookTokenSet  bool   `json:"webhook_token_set"`
	// Announced counts the shop's leads announced by webhook so far.
	Announced int `json:"announced"`
}

type simulatedTenant struct {
	SimulatedTenant
	id uuid.UUID
	// announced is how many of the shop's leads (Server.CRMLeads, in the
	// order they were added) have been announced.
	announced int
}

func (t *simulatedTenant) view() SimulatedTenantView {
	return SimulatedTenantView{
		TenantID: t.id.String(), CRM: t.CRM, Location: t.Location, SMSNumber: t.SMSNumber,
		WebhookSecretSet: t.WebhookSecret != "", WebhookTokenSet: t.WebhookToken != "", Announced: t.announced,
	}
}

// announces reports whether the shop has a webhook set up in its CRM.
func (t *simulatedTenant) announces() bool {
	return t.WebhookSecret != "" || t.WebhookToken != ""
}

// The kinds of simulator error, which the control routes answer with 400,
// 404, 409 and 502.
var (
	errSimulateInvalid  = errors.New("invalid simulation request")
	errSimulateNotFound = errors.New("not found")
	errSimulateConflict = errors.New("conflict")
	errSimulateWorker   = errors.New("the worker did not take it")
	// errNoWorkers (409) says how to give the simulator a worker.
	errNoWorkers = errors.New("no worker URL is set (cmd/sandbox -worker, or PUT /_sandbox/simulate/workers)")
)

// SetWorkers replaces the workers' base URLs ("http://127.0.0.1:8080", the
// URL each one's http.public_url names, since Twilio signs the exact URL
// it calls). None leaves the simulator with no worker to call.
func (s *Simulator) SetWorkers(urls ...string) error {
	clean := make([]string, 0, len(urls))
	var errs []error
	for _, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			errs = append(errs, fmt.Errorf("worker URL %q: want an absolute http(s) base URL such as http://127.0.0.1:8080", raw))
			continue
		}
		clean = append(clean, strings.TrimRight(raw, "/"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", errSimulateInvalid, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.workers, s.next = clean, 0
	return nil
}

// Workers returns the workers' base URLs.
func (s *Simulator) Workers() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.workers)
}

// worker returns the next worker's base URL, round-robin.
func (s *Simulator) worker() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.workers) == 0 {
		return "", errNoWorkers
	}
	w := s.workers[s.next%len(s.workers)]
	s.next++
	return w, nil
}

// RegisterTenant adds t, or replaces what was registered for its tenant
// id. Every problem is reported at once, each naming its field; none
// quotes a credential. A shop already registered to another tenant is a
// conflict: its webhooks could only go to one. Leads the shop held before
// are announced too, by the next AnnounceLeads, as if its webhook had been
// set up from the start.
func (s *Simulator) RegisterTenant(t SimulatedTenant) error {
	id, err := uuid.Parse(t.TenantID)
	var errs []error
	if err != nil {
		errs = append(errs, errors.New("tenant_id: must be the tenant's UUID"))
	}
	switch t.CRM {
	case ProviderShopMonkey:
		if t.WebhookToken != "" {
			errs = append(errs, errors.New("webhook_token: only Tekmetric webhooks carry a token in their URL; ShopMonkey's are signed with webhook_secret"))
		}
		if t.WebhookSecret != "" {
			if err := fakeshopmonkey.CheckWebhookSecret(t.WebhookSecret); err != nil {
				errs = append(errs, errors.New(`webhook_secret: starts with "whsec_" but what follows is not standard base64`))
			}
		}
	case ProviderTekmetric:
		if t.WebhookSecret != "" {
			errs = append(errs, errors.New("webhook_secret: Tekmetric signs nothing; its webhooks carry webhook_token in their URL"))
		}
		if t.WebhookToken != "" && url.PathEscape(t.WebhookToken) != t.WebhookToken {
			errs = append(errs, errors.New("webhook_token: must be one URL path segment (letters, digits, - and _)"))
		}
		if _, err := tekmetricShopID(t.Location); err != nil && t.Location != "" {
			errs = append(errs, errors.New("location: a Tekmetric shop id is a positive number"))
		}
	default:
		errs = append(errs, fmt.Errorf("crm: want %s or %s, got %q", ProviderShopMonkey, ProviderTekmetric, t.CRM))
	}
	if t.Location == "" {
		errs = append(errs, errors.New("location: is required (the ShopMonkey location or the Tekmetric shop id)"))
	}
	if t.SMSNumber != "" && !faketwilio.IsE164(t.SMSNumber) {
		errs = append(errs, fmt.Errorf("sms_number: want E.164 (+15125550100), got %q", t.SMSNumber))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w", errSimulateInvalid, err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	for other, o := range s.tenants {
		if other != id && o.CRM == t.CRM && o.Location == t.Location {
			return fmt.Errorf("%w: %s shop %s is registered to tenant %s", errSimulateConflict, t.CRM, t.Location, other)
		}
	}
	reg := &simulatedTenant{SimulatedTenant: t, id: id}
	reg.TenantID = id.String()
	if old, ok := s.tenants[id]; ok && old.CRM == t.CRM && old.Location == t.Location {
		reg.announced = old.announced // the same shop: what it announced stays announced
	}
	s.tenants[id] = reg
	return nil
}

// Tenants returns the registered tenants, without their credentials.
func (s *Simulator) Tenants() []SimulatedTenantView {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SimulatedTenantView, 0, len(s.tenants))
	for _, t := range s.tenants {
		out = append(out, t.view())
	}
	slices.SortFunc(out, func(a, b SimulatedTenantView) int { return strings.Compare(a.TenantID, b.TenantID) })
	return out
}

// tenant returns a copy of the registration of tenantID.
func (s *Simulator) tenant(tenantID string) (simulatedTenant, error) {
	id, err := uuid.Parse(tenantID)
	if err != nil {
		return simulatedTenant{}, fmt.Errorf("%w: tenant_id must be the tenant's UUID", errSimulateInvalid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tenants[id]
	if !ok {
		return simulatedTenant{}, fmt.Errorf("%w: tenant %s is not registered (POST /_sandbox/simulate/tenants)", errSimulateNotFound, id)
	}
	return *t, nil
}

// Announcement is a lead a CRM told a worker about by webhook.
type Announcement struct {
	TenantID string       `json:"tenant_id"`
	Lead     fake.LeadRef `json:"lead"`
	// Worker is the base URL of the worker that took it.
	Worker string `json:"worker"`
}

// AnnounceLeads announces by webhook every lead added to a registered
// shop with a webhook since the last call (leads from before the shop was
// registered included), as ShopMonkey and Tekmetric do when a record is
// created. A shop's leads go in the order they were added; when one is
// refused or cannot be delivered, the shop's later leads wait, and the next
// call tries again from it, as the CRMs redeliver. It returns what was
// announced and what failed. With no worker set it does nothing.
func (s *Simulator) AnnounceLeads(ctx context.Context) ([]Announcement, error) {
	if len(s.Workers()) == 0 {
		return nil, nil
	}
	s.mu.Lock()
	ids := make([]uuid.UUID, 0, len(s.tenants))
	for id, t := range s.tenants {
		if t.announces() {
			ids = append(ids, id)
		}
	}
	s.mu.Unlock()
	slices.SortFunc(ids, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })

	var (
		out  []Announcement
		errs []error
	)
	for _, id := range ids {
		done, err := s.announceShop(ctx, id)
		out = append(out, done...)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return out, errors.Join(errs...)
}

// announceShop announces the leads of tenantID's shop not yet announced.
func (s *Simulator) announceShop(ctx context.Context, tenantID uuid.UUID) ([]Announcement, error) {
	s.announcing.Lock()
	defer s.announcing.Unlock()
	t, err := s.tenant(tenantID.String())
	if err != nil || !t.announces() {
		return nil, err
	}
	refs := s.srv.CRMLeads(t.CRM, t.Location)
	var out []Announcement
	for _, ref := range refs[min(t.announced, len(refs)):] {
		worker, err := s.announce(ctx, t.SimulatedTenant, ref)
		if err != nil {
			return out, fmt.Errorf("error announcing %s %s of tenant %s: %w", t.CRM, ref.ExternalID, tenantID, err)
		}
		s.mu.Lock()
		if cur, ok := s.tenants[tenantID]; ok && cur.CRM == t.CRM && cur.Location == t.Location {
			cur.announced = max(cur.announced, t.announced+len(out)+1)
		}
		s.mu.Unlock()
		out = append(out, Announcement{TenantID: tenantID.String(), Lead: ref, Worker: worker})
	}
	return out, nil
}

// AddLead adds a new lead to the shop of tenantID, a booking request when
// appointment is true and an estimate otherwise, and announces it by
// webhook at once (with any of the shop's leads still waiting). When the
// webhook fails the lead stays in the CRM fake, to be announced again by
// the next AnnounceLeads (or found by the worker's poll); the error says so.
func (s *Simulator) AddLead(ctx context.Context, tenantID string, appointment bool) (Announcement, error) {
	t, err := s.tenant(tenantID)
	if err != nil {
		return Announcement{}, err
	}
	if !t.announces() {
		return Announcement{}, fmt.Errorf("%w: tenant %s has no webhook (register it with a webhook_secret or webhook_token)", errSimulateInvalid, t.id)
	}
	if len(s.Workers()) == 0 {
		return Announcement{}, errNoWorkers
	}
	ref, err := s.srv.AddCRMLead(t.CRM, t.Location, appointment, time.Time{})
	if err != nil {
		return Announcement{}, fmt.Errorf("%w: %w", errSimulateInvalid, err)
	}
	done, err := s.announceShop(ctx, t.id)
	for _, a := range done {
		if a.Lead.ExternalID == ref.ExternalID {
			s.record(SimulatedEvent{Kind: SimulatedLead, Lead: &a})
			return a, nil
		}
	}
	if err == nil {
		err = fmt.Errorf("%s was added but not announced", ref.ExternalID)
	}
	return Announcement{TenantID: t.TenantID, Lead: ref}, fmt.Errorf("%w: lead %s added; its webhook will be retried: %w", errSimulateWorker, ref.ExternalID, err)
}

// announce posts the webhook the shop's CRM sends for a new lead: a signed
// ShopMonkey INSERT of the order or appointment, or a Tekmetric "... Created"
// event to the tenant's token URL. It returns the worker it went to.
func (s *Simulator) announce(ctx context.Context, t SimulatedTenant, ref fake.LeadRef) (string, error) {
	worker, err := s.worker()
	if err != nil {
		return "", err
	}
	switch t.CRM {
	case ProviderShopMonkey:
		record, ok := s.srv.ShopMonkey.Record(t.Location, fakeshopmonkey.Table(ref.Kind), ref.ID)
		if !ok {
			return "", fmt.Errorf("%w: no %s %s in location %s", errSimulateNotFound, ref.Kind, ref.ID, t.Location)
		}
		err = fakeshopmonkey.PostWebhook(ctx, s.client, webhookurl.URL(worker, webhookurl.CRM(ProviderShopMonkey, t.TenantID, "")), t.WebhookSecret, "INSERT", ref.Kind, record)
	case ProviderTekmetric:
		shop, shopErr := tekmetricShopID(t.Location)
		id, idErr := strconv.ParseInt(ref.ID, 10, 64)
		if shopErr != nil || idErr != nil {
			return "", fmt.Errorf("%w: Tekmetric shop %q or record %q is not a number", errSimulateInvalid, t.Location, ref.ID)
		}
		table, event := faketekmetric.RepairOrders, "Repair Order Created"
		if ref.Kind == faketekmetric.Appointment {
			table, event = faketekmetric.Appointments, "Appointment Created"
		}
		record, ok := s.srv.Tekmetric.Record(shop, table, id)
		if !ok {
			return "", fmt.Errorf("%w: no %s %d in shop %d", errSimulateNotFound, table, id, shop)
		}
		err = faketekmetric.PostWebhook(ctx, s.client, webhookurl.URL(worker, webhookurl.CRM(ProviderTekmetric, t.TenantID, t.WebhookToken)), event, record)
		err = withoutToken(err, t.WebhookToken)
	default:
		return "", fmt.Errorf("%w: unknown CRM %q", errSimulateInvalid, t.CRM)
	}
	if err != nil {
		return "", fmt.Errorf("%w: %w", errSimulateWorker, err)
	}
	return worker, nil
}

// withoutToken hides a Tekmetric webhook token in err: a refusal names
// only the worker's host, but a transport error (*url.Error: refused,
// timed out) quotes the whole URL, whose last segment is the token.
func withoutToken(err error, token string) error {
	var ue *url.Error
	if err != nil && errors.As(err, &ue) {
		ue.URL = strings.ReplaceAll(ue.URL, url.PathEscape(token), "{token}")
	}
	return err
}

// CustomerText is a text a customer sends a shop. TenantID or ShopNumber
// names the shop; with neither, it answers the shop whose number last
// texted From, as a customer replying on their phone does.
type CustomerText struct {
	TenantID   string `json:"tenant_id"`
	ShopNumber string `json:"shop_number"`
	From       string `json:"from"`
	Body       string `json:"body"`
}

// DeliveredText is a CustomerText as Twilio delivered it to a worker.
type DeliveredText struct {
	TenantID   string `json:"tenant_id"`
	From       string `json:"from"`
	To         string `json:"to"`
	Body       string `json:"body"`
	MessageSid string `json:"message_sid"`
	// OptOutType is what Twilio's Advanced Opt-Out made of the body: STOP,
	// START, HELP, or empty for anything else (a reply).
	OptOutType string `json:"opt_out_type,omitempty"`
	Worker     string `json:"worker"`
}

// Text delivers a customer's text to the tenant's Twilio route, signed
// with the account's auth token over the exact URL called. A STOP or START
// also opts the number out of or back into the Twilio fake, as Twilio
// does itself before telling the shop, so that later sends to it meet
// 21610 just as they would.
func (s *Simulator) Text(ctx context.Context, m CustomerText) (DeliveredText, error) {
	if !faketwilio.IsE164(m.From) {
		return DeliveredText{}, fmt.Errorf("%w: from: want the customer's number in E.164 (+15125550123), got %q", errSimulateInvalid, m.From)
	}
	if m.ShopNumber != "" && !faketwilio.IsE164(m.ShopNumber) {
		return DeliveredText{}, fmt.Errorf("%w: shop_number: want E.164 (+15125550100), got %q", errSimulateInvalid, m.ShopNumber)
	}
	tenantID, to, err := s.textedShop(m)
	if err != nil {
		return DeliveredText{}, err
	}
	worker, err := s.worker()
	if err != nil {
		return DeliveredText{}, err
	}
	optOut := faketwilio.OptOutType(m.Body)
	switch optOut {
	case "STOP":
		s.srv.Twilio.OptOut(m.From)
	case "START":
		s.srv.Twilio.OptIn(m.From)
	}
	sid, err := faketwilio.PostInbound(ctx, s.client, webhookurl.URL(worker, webhookurl.TwilioSMS(tenantID)), s.srv.Twilio.AuthToken(), m.From, to, m.Body)
	if err != nil {
		return DeliveredText{}, fmt.Errorf("%w: %w", errSimulateWorker, err)
	}
	d := DeliveredText{TenantID: tenantID, From: m.From, To: to, Body: m.Body, MessageSid: sid, OptOutType: optOut, Worker: worker}
	s.recordText(d)
	return d, nil
}

// textedShop finds the tenant and the shop number a text goes to.
func (s *Simulator) textedShop(m CustomerText) (tenantID, to string, err error) {
	if m.TenantID != "" {
		id, err := uuid.Parse(m.TenantID)
		if err != nil {
			return "", "", fmt.Errorf("%w: tenant_id must be the tenant's UUID", errSimulateInvalid)
		}
		// A tenant need not be registered to be texted: the Twilio route
		// is signed with the account's token, not a tenant credential.
		to = m.ShopNumber
		if t, err := s.tenant(id.String()); err == nil && to == "" {
			to = t.SMSNumber
		}
		if to == "" {
			return "", "", fmt.Errorf("%w: shop_number: give it, or register tenant %s with its sms_number", errSimulateInvalid, id)
		}
		return id.String(), to, nil
	}
	shop := m.ShopNumber
	if shop == "" {
		msgs := s.srv.Twilio.Messages()
		for i := len(msgs) - 1; i >= 0; i-- {
			if msgs[i].To == m.From && msgs[i].From != "" {
				shop = msgs[i].From
				break
			}
		}
		if shop == "" {
			return "", "", fmt.Errorf("%w: no shop has texted %s; give tenant_id or shop_number", errSimulateNotFound, m.From)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, t := range s.tenants {
		if t.SMSNumber == shop {
			return id.String(), shop, nil
		}
	}
	return "", "", fmt.Errorf("%w: no registered tenant has sms_number %s; give tenant_id", errSimulateNotFound, shop)
}

// EmailBounce is a bounce reported to a worker for an email it sent.
type EmailBounce struct {
	Email    string `json:"email"`
	TenantID string `json:"tenant_id"`
	// MessageID is the worker's id of the bounced message, from the
	// email's custom args.
	MessageID string `json:"message_id"`
	Reason    string `json:"reason"`
	Worker    string `json:"worker"`
}

// defaultBounceReason is the SMTP answer of a mailbox that does not exist.
const defaultBounceReason = "550 5.1.1 The email account that you tried to reach does not exist."

// Bounce reports, through SendGrid's signed event webhook, that the last
// email the worker sent to address bounced (reason: the receiving server's
// answer; empty gives a 550 for a mailbox that does not exist). Only
// emails carrying the worker's tenant and message ids can be bounced: the
// worker finds the message, and the tenant whose list the address goes on,
// by them.
func (s *Simulator) Bounce(ctx context.Context, address, reason string) (EmailBounce, error) {
	if address == "" {
		return EmailBounce{}, fmt.Errorf("%w: email: is required", errSimulateInvalid)
	}
	if reason == "" {
		reason = defaultBounceReason
	}
	var sent *fakesendgrid.Email
	emails := s.srv.SendGrid.Emails()
	for i := len(emails) - 1; i >= 0; i-- {
		if e := &emails[i]; strings.EqualFold(e.To, address) && e.CustomArgs["tenant_id"] != "" && e.CustomArgs["message_id"] != "" {
			sent = e
			break
		}
	}
	if sent == nil {
		return EmailBounce{}, fmt.Errorf("%w: no email a worker sent to %s (with its tenant and message ids) is in the SendGrid fake", errSimulateNotFound, address)
	}
	worker, err := s.worker()
	if err != nil {
		return EmailBounce{}, err
	}
	ev := fakesendgrid.NewEvent(*sent, "bounce", time.Now())
	ev["reason"] = reason
	ev["status"] = "5.1.1"
	ev["type"] = "bounce"
	ev["bounce_classification"] = "Invalid Address"
	if err := fakesendgrid.PostEvents(ctx, s.client, webhookurl.URL(worker, webhookurl.SendGridEvents()), []fakesendgrid.Event{ev}); err != nil {
		return EmailBounce{}, fmt.Errorf("%w: %w", errSimulateWorker, err)
	}
	b := EmailBounce{Email: sent.To, TenantID: sent.CustomArgs["tenant_id"], MessageID: sent.CustomArgs["message_id"], Reason: reason, Worker: worker}
	s.record(SimulatedEvent{Kind: SimulatedBounce, Bounce: &b})
	return b, nil
}
