package shopmonkey

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// Statuses and sources that make a ShopMonkey record a lead: an estimate, or
// a booking the customer made ("Manual" appointments are staff-made).
const (
	statusEstimate          = "Estimate"
	sourceWorkRequestForm   = "WorkRequestForm"
	sourceAppointmentBooker = "AppointmentScheduler"
)

// leadSources are the appointment sources that make a lead: bookings the
// customer made. FetchNewLeads, GetLead and the webhook's lead rule read
// this one list.
var leadSources = []string{sourceWorkRequestForm, sourceAppointmentBooker}

// order is the part of a ShopMonkey order the orchestrator reads. "number"
// (a string or an integer depending on the record) is not read at all, so
// neither shape can fail a poll.
type order struct {
	ID         string
	Status     string
	LocationID string
	CustomerID string
	VehicleID  string
	Complaint  string
	Authorized bool
	Archived   bool
	Deleted    bool
	Created    time.Time
	Updated    time.Time
	Version    int64
	Cleaned    []string
}

func decodeOrder(raw json.RawMessage) (order, error) {
	d := newRecordDecoder(kindOrder, raw)
	o := order{
		ID:         d.id("id"),
		Status:     d.requiredText("status"),
		LocationID: d.requiredText("locationId"),
		CustomerID: d.id("customerId"),
		VehicleID:  d.optionalID("vehicleId"),
		Complaint:  d.text("complaint"),
		Authorized: d.boolean("authorized"),
		Archived:   d.boolean("archived"),
		Deleted:    d.boolean("deleted"),
		Created:    d.timestamp("createdDate"),
		Updated:    d.timestamp("updatedDate"),
	}
	o.Version = d.version(o.Updated)
	o.Cleaned = d.cleaned
	return o, d.problem()
}

func (o order) inquiry() lead.Inquiry {
	return lead.Inquiry{
		ExternalID: externalID(kindOrder, o.ID),
		Source:     lead.SourceEstimate,
		CustomerID: o.CustomerID,
		VehicleID:  o.VehicleID,
		Summary:    o.Complaint,
		CreatedAt:  o.Created,
		UpdatedAt:  o.Updated,
		Version:    o.Version,
		Booked:     o.Authorized,
		Cleaned:    o.Cleaned,
	}
}

// appointment is the part of a ShopMonkey appointment the orchestrator reads.
type appointment struct {
	ID                string
	LocationID        string
	CustomerID        string
	VehicleID         string
	Name              string
	AttributionSource string
	Confirmed         bool
	Created           time.Time
	Updated           time.Time
	Version           int64
	Cleaned           []string
}

func decodeAppointment(raw json.RawMessage) (appointment, error) {
	d := newRecordDecoder(kindAppointment, raw)
	a := appointment{
		ID:                d.id("id"),
		LocationID:        d.requiredText("locationId"),
		CustomerID:        d.id("customerId"),
		VehicleID:         d.optionalID("vehicleId"),
		Name:              d.text("name"),
		AttributionSource: d.text("attributionSource"),
		Confirmed:         d.boolean("confirmed"),
		Created:           d.timestamp("createdDate"),
		Updated:           d.timestamp("updatedDate"),
	}
	a.Version = d.version(a.Updated)
	a.Cleaned = d.cleaned
	return a, d.problem()
}

func (a appointment) inquiry() lead.Inquiry {
	return lead.Inquiry{
		ExternalID: externalID(kindAppointment, a.ID),
		Source:     lead.SourceAppointment,
		CustomerID: a.CustomerID,
		VehicleID:  a.VehicleID,
		Summary:    a.Name,
		CreatedAt:  a.Created,
		UpdatedAt:  a.Updated,
		Version:    a.Version,
		Booked:     a.Confirmed,
		Cleaned:    a.Cleaned,
	}
}

// FetchNewLeads lists the estimates and customer-made appointments of the
// location updated in [since, until). It makes two sets of list calls,
// orders with status Estimate and appointments from the web form or the
// scheduler, and re-checks every condition on each row, because the live API
// drops filters it does not understand without an error. A malformed lead
// record does not fail the poll: it is returned with Problem set (a
// *crm.InvalidRecordError naming the field), so that the other leads of the
// window go on and the bad one fails in its own ingest job, where an
// operator sees it.
func (a *Adapter) FetchNewLeads(ctx context.Context, since, until time.Time) ([]lead.Inquiry, error) {
	if !until.After(since) {
		return nil, fmt.Errorf("error fetching leads: window [%s, %s) is empty", since.Format(time.RFC3339Nano), until.Format(time.RFC3339Nano))
	}
	inWindow := func(t time.Time) bool { return !t.Before(since) && t.Before(until) }
	var out []lead.Inquiry

	orders, err := a.listUpdated(ctx, "/v3/order", map[string]any{"status": statusEstimate}, since, until)
	if err != nil {
		return nil, fmt.Errorf("error listing orders: %w", err)
	}
	for _, raw := range orders {
		o, err := decodeOrder(raw)
		if err != nil {
			out = append(out, invalidInquiry(kindOrder, lead.SourceEstimate, o.ID, err))
			continue
		}
		if o.Status == statusEstimate && o.LocationID == a.locationID && !o.Archived && !o.Deleted && inWindow(o.Updated) {
			out = append(out, o.inquiry())
		}
	}

	appts, err := a.listUpdated(ctx, "/v3/appointment", map[string]any{"attributionSource": map[string]any{"in": leadSources}}, since, until)
	if err != nil {
		return nil, fmt.Errorf("error listing appointments: %w", err)
	}
	for _, raw := range appts {
		ap, err := decodeAppointment(raw)
		if err != nil {
			out = append(out, invalidInquiry(kindAppointment, lead.SourceAppointment, ap.ID, err))
			continue
		}
		if slices.Contains(leadSources, ap.AttributionSource) && ap.LocationID == a.locationID && inWindow(ap.Updated) {
			out = append(out, ap.inquiry())
		}
	}

	slices.SortFunc(out, func(x, y lead.Inquiry) int {
		return cmp.Or(x.UpdatedAt.Compare(y.UpdatedAt), strings.Compare(x.ExternalID, y.ExternalID))
	})
	return out, nil
}

// invalidInquiry stands for a listed record that could not be decoded. It
// has no ExternalID when even the id was unreadable.
func invalidInquiry(kind string, source lead.Source, id string, problem error) lead.Inquiry {
	in := lead.Inquiry{Source: source, Problem: problem}
	if id != "" {
		in.ExternalID = externalID(kind, id)
	}
	return in
}

// GetLead fetches one order or appointment by the ExternalID FetchNewLeads
// gave it. A record of another location, or an archived or deleted order,
// is crm.ErrNotFound: for the orchestrator it is gone.
func (a *Adapter) GetLead(ctx context.Context, externalID string) (lead.Inquiry, error) {
	kind, id, _ := strings.Cut(externalID, ":")
	raw, err := crm.UnescapeID(id)
	if err != nil || raw == "" || (kind != kindOrder && kind != kindAppointment) {
		return lead.Inquiry{}, fmt.Errorf("error fetching lead %q: want order:<id> or appointment:<id>: %w", externalID, crm.ErrNotFound)
	}
	if strings.ContainsRune(raw, utf8.RuneError) {
		// encoding/json turned a byte of the id that was not UTF-8 into
		// U+FFFD while the poll read it: the CRM's id is lost, and a fetch
		// by what is left would be a misleading 404.
		return lead.Inquiry{}, fmt.Errorf("error fetching lead %q: %w", externalID, &crm.InvalidRecordError{
			Record: kind, Field: "id", Reason: "held a byte that is not UTF-8, so the record cannot be fetched by it; fix it in ShopMonkey"})
	}
	env, err := a.do(ctx, http.MethodGet, "/v3/"+kind+"/"+url.PathEscape(raw), nil, nil)
	if err != nil {
		return lead.Inquiry{}, fmt.Errorf("error fetching %s %s: %w", kind, id, err)
	}
	if kind == kindOrder {
		o, err := decodeOrder(env.Data)
		switch {
		case err != nil:
			return lead.Inquiry{}, fmt.Errorf("error fetching order %s: %w", id, err)
		case o.LocationID != a.locationID:
			return lead.Inquiry{}, fmt.Errorf("error fetching order %s: it belongs to another location: %w", id, crm.ErrNotFound)
		case o.Archived || o.Deleted:
			return lead.Inquiry{}, fmt.Errorf("error fetching order %s: it is archived or deleted: %w", id, crm.ErrNotFound)
		}
		in := o.inquiry()
		in.NotALead = o.Status != statusEstimate
		return in, nil
	}
	ap, err := decodeAppointment(env.Data)
	switch {
	case err != nil:
		return lead.Inquiry{}, fmt.Errorf("error fetching appointment %s: %w", id, err)
	case ap.LocationID != a.locationID:
		return lead.Inquiry{}, fmt.Errorf("error fetching appointment %s: it belongs to another location: %w", id, crm.ErrNotFound)
	}
	in := ap.inquiry()
	in.NotALead = !slices.Contains(leadSources, ap.AttributionSource)
	return in, nil
}
