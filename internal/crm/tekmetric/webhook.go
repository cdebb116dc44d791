package tekmetric

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/webhookfield"
)

// ParseWebhook is Tekmetric's crm.ParseWebhookFunc (crm.WebhookURLToken).
// Tekmetric signs nothing: the route has checked the token in the URL the
// shop configured before calling it, and nothing of the body is trusted
// beyond the record it names, which ingest fetches again by id and checks
// against the tenant's shop. A repair order or appointment event is one
// for ingest, keyed by the record's ExternalID and, when the webhook
// carries the record's updatedDate, its version as FetchNewLeads computes
// it; other events are Ignored, with their name.
//
// Tekmetric sends no delivery id. Without an updatedDate the version is 0,
// "the latest", never the clock (which made every delivery a job of its
// own): repeats then collapse into the record's pending ingest.
func ParseWebhook(req crm.WebhookRequest) (crm.WebhookEvent, error) {
	r, err := decodeWebhook(req.Body)
	if err != nil {
		return crm.WebhookEvent{}, err
	}
	if r.Kind == webhookOther {
		return crm.WebhookEvent{Ignored: r.Event}, nil
	}
	loc, err := req.Tenant.Location()
	if err != nil {
		loc = time.UTC // a row edited by hand; the version is then the poll's to give
	}
	v, _ := r.version(loc) // 0 when the webhook carried none
	return crm.WebhookEvent{ExternalID: r.externalID(), Version: v}, nil
}

// webhookKind says what kind of record a Tekmetric webhook is about.
type webhookKind string

// Tekmetric webhook record kinds. Only repair orders and appointments can
// be leads.
const (
	webhookRepairOrder webhookKind = "repair-order"
	webhookAppointment webhookKind = "appointment"
	webhookOther       webhookKind = "other"
)

// webhookRecord is a Tekmetric webhook reduced to which record it names.
type webhookRecord struct {
	// Event is the name as sent ("Repair Order Created").
	Event string
	Kind  webhookKind
	// ID is data.id: positive for repair orders and appointments, zero
	// for other events without a readable one.
	ID int64
	// UpdatedDate is data.updatedDate as sent, when there is one.
	UpdatedDate string
}

// externalID is the record's id as FetchNewLeads names leads, or "" for
// other records.
func (r webhookRecord) externalID() string {
	if r.ID <= 0 {
		return ""
	}
	switch r.Kind {
	case webhookRepairOrder:
		return externalID(prefixRepairOrder, r.ID)
	case webhookAppointment:
		return externalID(prefixAppointment, r.ID)
	}
	return ""
}

// version is the record's version as FetchNewLeads computes it: its
// updatedDate read as the adapter reads times (parseTime: a time without
// a zone is the shop's wall clock in loc), through version. ok is false
// when the webhook carried no usable updatedDate.
func (r webhookRecord) version(loc *time.Location) (v int64, ok bool) {
	if r.UpdatedDate == "" {
		return 0, false
	}
	t, err := parseTime(r.UpdatedDate, loc)
	if err != nil {
		return 0, false
	}
	return version(t), true
}

// decodeWebhook decodes a Tekmetric webhook body {"event":"...",
// "data":{...}}. The record kind comes from the event name ("Repair Order
// ..." or "Appointment ..."); other events ("Customer Viewed Estimate",
// whose data is not known to be a repair order) are webhookOther, and
// their data.id is read only when it is a positive integer. Errors name
// the field.
func decodeWebhook(body []byte) (webhookRecord, error) {
	var v struct {
		Event json.RawMessage `json:"event"`
		Data  json.RawMessage `json:"data"`
	}
	if err := webhookfield.Object(body, &v); err != nil {
		return webhookRecord{}, fmt.Errorf("tekmetric webhook: body %w", err)
	}
	event, err := webhookfield.Text("event", v.Event, true)
	if err != nil {
		return webhookRecord{}, fmt.Errorf("tekmetric webhook: %w", err)
	}
	r := webhookRecord{Event: event, Kind: webhookKindOf(event)}
	id, updated, err := webhookData(v.Data)
	switch {
	case err == nil:
		r.ID, r.UpdatedDate = id, updated
	case r.Kind != webhookOther:
		return webhookRecord{}, fmt.Errorf("tekmetric webhook: %w", err)
	}
	return r, nil
}

// webhookData reads the record's id and, best effort, its updatedDate,
// which its version is made of (see webhookRecord.version).
func webhookData(raw json.RawMessage) (id int64, updatedDate string, err error) {
	if webhookfield.IsNull(raw) {
		return 0, "", errors.New("field data: is missing")
	}
	var data struct {
		ID          json.RawMessage `json:"id"`
		UpdatedDate json.RawMessage `json:"updatedDate"`
	}
	if err := webhookfield.Object(raw, &data); err != nil {
		return 0, "", fmt.Errorf("field data: %w", err)
	}
	if id, err = webhookfield.PositiveInt("data.id", data.ID); err != nil {
		return 0, "", err
	}
	if updated, err := webhookfield.Text("data.updatedDate", data.UpdatedDate, false); err == nil {
		updatedDate = updated
	}
	return id, updatedDate, nil
}

// webhookKindOf reads the record kind from an event name. Tekmetric's
// names are "<Record> <Verb>" in title case; case and spacing are not
// relied on.
func webhookKindOf(event string) webhookKind {
	name := strings.ToLower(strings.Join(strings.Fields(event), " "))
	switch {
	case strings.HasPrefix(name, "repair order "):
		return webhookRepairOrder
	case strings.HasPrefix(name, "appointment "):
		return webhookAppointment
	}
	return webhookOther
}
