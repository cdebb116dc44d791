package shopmonkey

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/webhookfield"
)

// ShopMonkey webhook operations.
const (
	opInsert = "INSERT"
	opUpdate = "UPDATE"
	opDelete = "DELETE"
)

// ignoredNotOurs is why a verified webhook asks for nothing: a record of
// another table or location, or a delete. It is the text the route has
// always answered with.
const ignoredNotOurs = "not an order or appointment of this shop"

// ParseWebhook is ShopMonkey's crm.ParseWebhookFunc (crm.WebhookSigned):
// it verifies the request with the tenant's signing secret (Standard
// Webhooks, fresh within MaxWebhookSkew), then decodes the body. An order
// or appointment of the tenant's location that was inserted or updated is
// an event for ingest, deduplicated by webhook-id and keyed by the
// record's ExternalID and version as FetchNewLeads computes them; ingest
// fetches the record again and decides (a new lead, an update of one, a
// booking, or nothing). Anything else is Ignored.
func ParseWebhook(req crm.WebhookRequest) (crm.WebhookEvent, error) {
	deliveryID, err := verifyStandardWebhook(req.Secret.Reveal(), req.Header, req.Body, req.Now)
	if err != nil {
		return crm.WebhookEvent{}, err
	}
	r, err := decodeWebhook(req.Body)
	if err != nil {
		return crm.WebhookEvent{}, err
	}
	// An account's webhook covers all its locations; only one is the
	// tenant. A record that does not say its location is not ruled out:
	// GetLead checks it.
	if !r.relevant() || (r.LocationID != "" && r.LocationID != req.Tenant.CRMLocationID) {
		return crm.WebhookEvent{Ignored: ignoredNotOurs, DeliveryID: deliveryID}, nil
	}
	return crm.WebhookEvent{DeliveryID: deliveryID, ExternalID: r.externalID(), Version: r.Version}, nil
}

// webhookRecord is a verified ShopMonkey webhook, reduced to what decides
// whether to ingest: which record changed and, for orders and
// appointments, whether it can be a lead. Nothing else of it is used: the
// record is fetched again by ingest.
type webhookRecord struct {
	APIVersion string
	// Operation is INSERT, UPDATE or DELETE.
	Operation string
	// Table is the record kind ("order", "appointment", "customer", ...).
	Table string
	// RecordID is data.id, as sent.
	RecordID string
	// LocationID is an order's or appointment's data.locationId: the shop.
	LocationID string
	// Status is an order's data.status ("Estimate", "RepairOrder",
	// "Invoice"); empty for other tables or when absent.
	Status string
	// AttributionSource is an appointment's data.attributionSource
	// ("WorkRequestForm", "AppointmentScheduler", "Manual"); empty for
	// other tables or when absent.
	AttributionSource string
	// Version is the record's version as decodeOrder and
	// decodeAppointment compute it (see webhookVersion). Zero when the
	// webhook's record carries no readable one.
	Version int64
}

// externalID is the record's id as FetchNewLeads names leads, or "" for
// tables that are not leads.
func (r webhookRecord) externalID() string {
	switch r.Table {
	case kindOrder, kindAppointment:
		return externalID(r.Table, crm.EscapeID(r.RecordID))
	}
	return ""
}

// leadCandidate reports whether the webhook can be about a lead, so that
// the record is worth fetching: an order still an estimate, or an
// appointment the customer booked, that was not deleted. A field the
// webhook did not carry rules nothing out; the fetch decides. The rules
// are FetchNewLeads' own (statusEstimate, leadSources).
func (r webhookRecord) leadCandidate() bool {
	if r.Operation == opDelete {
		return false
	}
	switch r.Table {
	case kindOrder:
		return r.Status == "" || r.Status == statusEstimate
	case kindAppointment:
		return r.AttributionSource == "" || slices.Contains(leadSources, r.AttributionSource)
	}
	return false
}

// relevant reports whether the webhook may matter to the orchestrator at
// all: any order or appointment that was inserted or updated. Beyond lead
// candidates, that is an estimate converted or authorized (its lead is
// booked) and an appointment staff made for a customer who is a lead
// (booked too); ingest fetches the record and decides.
func (r webhookRecord) relevant() bool {
	return r.Operation != opDelete && r.externalID() != ""
}

// decodeWebhook decodes a verified ShopMonkey webhook body
// {"apiVersion","operation","table","data","diff"}. Errors name the field.
func decodeWebhook(body []byte) (webhookRecord, error) {
	var v struct {
		APIVersion json.RawMessage `json:"apiVersion"`
		Operation  json.RawMessage `json:"operation"`
		Table      json.RawMessage `json:"table"`
		Data       json.RawMessage `json:"data"`
	}
	if err := webhookfield.Object(body, &v); err != nil {
		return webhookRecord{}, fmt.Errorf("shopmonkey webhook: body %w", err)
	}
	var r webhookRecord
	var err error
	r.APIVersion = versionText(v.APIVersion)
	if r.Operation, err = webhookfield.Text("operation", v.Operation, true); err != nil {
		return webhookRecord{}, fmt.Errorf("shopmonkey webhook: %w", err)
	}
	r.Operation = strings.ToUpper(r.Operation)
	switch r.Operation {
	case opInsert, opUpdate, opDelete:
	default:
		return webhookRecord{}, fmt.Errorf("shopmonkey webhook: field operation: want INSERT, UPDATE or DELETE, got %s", webhookfield.Excerpt(r.Operation))
	}
	if r.Table, err = webhookfield.Text("table", v.Table, true); err != nil {
		return webhookRecord{}, fmt.Errorf("shopmonkey webhook: %w", err)
	}
	if webhookfield.IsNull(v.Data) {
		return webhookRecord{}, errors.New("shopmonkey webhook: field data: is missing")
	}
	if err := r.readData(v.Data); err != nil {
		return webhookRecord{}, fmt.Errorf("shopmonkey webhook: %w", err)
	}
	return r, nil
}

// readData reads the webhook's record: its id, the fields of the lead
// rules and its version.
func (r *webhookRecord) readData(raw json.RawMessage) error {
	var data struct {
		ID                json.RawMessage `json:"id"`
		LocationID        json.RawMessage `json:"locationId"`
		Status            json.RawMessage `json:"status"`
		AttributionSource json.RawMessage `json:"attributionSource"`
	}
	if err := webhookfield.Object(raw, &data); err != nil {
		return fmt.Errorf("field data: %w", err)
	}
	var err error
	if r.RecordID, err = webhookfield.Text("data.id", data.ID, true); err != nil {
		return err
	}
	// The lead fields are read only where they decide something: another
	// table's own "status" or "locationId" must not fail its webhook.
	switch r.Table {
	case kindOrder:
		r.Status, err = webhookfield.Text("data.status", data.Status, false)
	case kindAppointment:
		r.AttributionSource, err = webhookfield.Text("data.attributionSource", data.AttributionSource, false)
	}
	if err == nil && r.externalID() != "" {
		r.LocationID, err = webhookfield.Text("data.locationId", data.LocationID, false)
	}
	if err != nil {
		return err
	}
	r.Version = webhookVersion(r.Table, raw)
	return nil
}

// webhookVersion is the version decodeOrder and decodeAppointment give the
// record (recordDecoder.version: meta.version, else updatedDate in
// milliseconds), so that a webhook's ingest and a poll's ingest of one
// change share a job. A record whose version cannot be read gives 0, "the
// latest", rather than a refused webhook: the version only keys dedupe,
// and ingest reads the real one.
func webhookVersion(table string, data json.RawMessage) int64 {
	d := newRecordDecoder(table, data)
	v, fromUpdated := d.metaVersion()
	if fromUpdated {
		v = d.timestamp("updatedDate").UnixMilli()
	}
	if d.problem() != nil {
		return 0
	}
	return v
}

// versionText reads apiVersion, a string or a number (its type is not
// documented). It decides nothing, so an unreadable one is "" rather than
// a refused webhook.
func versionText(raw json.RawMessage) string {
	if s, err := webhookfield.Text("apiVersion", raw, false); err == nil {
		return s
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}
