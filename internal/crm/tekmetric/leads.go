package tekmetric

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// Repair order statuses (repairOrderStatus.id). An estimate is a lead;
// work in progress, complete, posted and accounts receivable mean the
// customer authorized the work; saved for later means they did not (yet).
const (
	statusEstimate           = 1
	statusWorkInProgress     = 2
	statusComplete           = 3
	statusPosted             = 5
	statusAccountsReceivable = 6
	statusDeleted            = 7
)

// ExternalID prefixes: Tekmetric's repair order and appointment ids are
// separate integer sequences, so the kind is part of the id.
const (
	prefixRepairOrder = "repair-order:"
	prefixAppointment = "appointment:"
)

// window is a poll's [since, until).
type window struct{ since, until time.Time }

func (w window) contains(t time.Time) bool { return !t.Before(w.since) && t.Before(w.until) }

// leadFields are the fields repair orders and appointments share, as
// Tekmetric writes them.
type leadFields struct {
	ID          int64  `json:"id"`
	ShopID      int64  `json:"shopId"`
	CustomerID  int64  `json:"customerId"`
	VehicleID   int64  `json:"vehicleId"`
	CreatedDate string `json:"createdDate"`
	UpdatedDate string `json:"updatedDate"`
	DeletedDate string `json:"deletedDate"`
}

// leadRecord is what the orchestrator reads of any lead record.
type leadRecord struct {
	ID         int64
	ShopID     int64
	CustomerID int64
	VehicleID  int64
	Deleted    bool
	Created    time.Time
	Updated    time.Time
	// Cleaned names the fields whose text had to be cleaned.
	Cleaned []string
}

// read checks the shared fields. A lead without a customer reaches nobody,
// so customerId is required even where Tekmetric lets it be empty
// (appointments). createdDate is null on some records (seen in Tekmetric's
// own examples), so only a malformed one is a problem.
func (f leadFields) read(chk *recordCheck, loc *time.Location) leadRecord {
	chk.id("shopId", f.ShopID)
	chk.id("customerId", f.CustomerID)
	if f.VehicleID < 0 {
		chk.fail("vehicleId", "is not a positive id: "+strconv.FormatInt(f.VehicleID, 10))
	}
	return leadRecord{
		ID:         f.ID,
		ShopID:     f.ShopID,
		CustomerID: f.CustomerID,
		VehicleID:  f.VehicleID,
		Created:    chk.time("createdDate", f.CreatedDate, loc, false),
		Updated:    chk.time("updatedDate", f.UpdatedDate, loc, true),
		Deleted:    !chk.time("deletedDate", f.DeletedDate, loc, false).IsZero(),
	}
}

// excluded reports whether r is certainly not a lead of shop in w. A field
// a malformed record left unread (zero) excludes nothing, so such a record
// still reaches an operator.
func (r leadRecord) excluded(shop int64, w window) bool {
	return (r.ShopID != 0 && r.ShopID != shop) || r.Deleted || (!r.Updated.IsZero() && !w.contains(r.Updated))
}

// gone says why the record GetLead fetched is not the shop's lead any more
// (crm.ErrNotFound), or nil.
func (r leadRecord) gone(shop int64) error {
	switch {
	case r.ShopID != shop:
		return fmt.Errorf("it belongs to shop %d: %w", r.ShopID, crm.ErrNotFound)
	case r.Deleted:
		return fmt.Errorf("it is deleted: %w", crm.ErrNotFound)
	}
	return nil
}

func (r leadRecord) inquiry(prefix string, source lead.Source, summary string, booked bool) lead.Inquiry {
	return lead.Inquiry{
		ExternalID: externalID(prefix, r.ID),
		Source:     source,
		CustomerID: strconv.FormatInt(r.CustomerID, 10),
		VehicleID:  optionalID(r.VehicleID),
		Summary:    summary,
		CreatedAt:  r.Created,
		UpdatedAt:  r.Updated,
		Version:    version(r.Updated),
		Booked:     booked,
		Cleaned:    r.Cleaned,
	}
}

// repairOrder is the part of a Tekmetric repair order the orchestrator
// reads.
type repairOrder struct {
	leadRecord
	StatusID int64
	Summary  string
	// Authorized is true when the customer approved at least one job.
	Authorized bool
}

func (c *Client) decodeRepairOrder(raw json.RawMessage) (repairOrder, error) {
	var lf leadFields
	var v struct {
		// The documented read is the object; the flat id, as the list
		// filter spells it, is accepted too.
		RepairOrderStatus *struct {
			ID int64 `json:"id"`
		} `json:"repairOrderStatus"`
		RepairOrderStatusID int64 `json:"repairOrderStatusId"`
		CustomerConcerns    []struct {
			Concern string `json:"concern"`
		} `json:"customerConcerns"`
		Jobs []struct {
			Name       string `json:"name"`
			Authorized *bool  `json:"authorized"`
		} `json:"jobs"`
	}
	chk := decodeRecord("repair order", raw, &lf, &v)
	ro := repairOrder{leadRecord: lf.read(chk, c.location), StatusID: v.RepairOrderStatusID}
	if v.RepairOrderStatus != nil && v.RepairOrderStatus.ID != 0 {
		ro.StatusID = v.RepairOrderStatus.ID
	}
	if ro.StatusID == 0 {
		chk.fail("repairOrderStatus.id", "is missing")
	}
	ro.Deleted = ro.Deleted || ro.StatusID == statusDeleted
	var concerns, jobs []string
	for i, cc := range v.CustomerConcerns {
		if s := chk.text("customerConcerns["+strconv.Itoa(i)+"].concern", cc.Concern); s != "" {
			concerns = append(concerns, s)
		}
	}
	for i, j := range v.Jobs {
		if s := chk.text("jobs["+strconv.Itoa(i)+"].name", j.Name); s != "" {
			jobs = append(jobs, s)
		}
		ro.Authorized = ro.Authorized || (j.Authorized != nil && *j.Authorized)
	}
	// What the customer asked for; an estimate the shop wrote up without
	// concerns is summed up by its jobs.
	if len(concerns) == 0 {
		concerns = jobs
	}
	ro.Summary = strings.Join(concerns, "; ")
	ro.Cleaned = chk.cleaned
	return ro, chk.problem()
}

// excluded reports whether ro is certainly not an estimate of shop in w.
func (ro repairOrder) excluded(shop int64, w window) bool {
	return (ro.StatusID != 0 && ro.StatusID != statusEstimate) || ro.leadRecord.excluded(shop, w)
}

// booked says whether the customer committed: they authorized a job, or
// the shop moved the order on to work. Saved for later is not a
// commitment. Erring towards booked stops follow-ups to a customer who
// already said yes, which is the mistake a shop cannot take back.
func (ro repairOrder) booked() bool {
	switch ro.StatusID {
	case statusWorkInProgress, statusComplete, statusPosted, statusAccountsReceivable:
		return true
	}
	return ro.Authorized
}

func (ro repairOrder) inquiry() lead.Inquiry {
	return ro.leadRecord.inquiry(prefixRepairOrder, lead.SourceEstimate, ro.Summary, ro.booked())
}

// appointment is the part of a Tekmetric appointment the orchestrator
// reads.
type appointment struct {
	leadRecord
	Title       string
	Description string
	// LeadSource marks where a booking came from; staff-made appointments
	// have none, and those are not leads.
	LeadSource string
	Status     string
	Arrived    bool
}

func (c *Client) decodeAppointment(raw json.RawMessage) (appointment, error) {
	var lf leadFields
	var v struct {
		Title             string `json:"title"`
		Description       string `json:"description"`
		LeadSource        string `json:"leadSource"`
		AppointmentStatus string `json:"appointmentStatus"`
		Arrived           *bool  `json:"arrived"`
	}
	chk := decodeRecord("appointment", raw, &lf, &v)
	ap := appointment{
		leadRecord:  lf.read(chk, c.location),
		Title:       chk.text("title", v.Title),
		Description: chk.text("description", v.Description),
		LeadSource:  chk.text("leadSource", v.LeadSource),
		Status:      chk.text("appointmentStatus", v.AppointmentStatus),
		Arrived:     v.Arrived != nil && *v.Arrived,
	}
	ap.Cleaned = chk.cleaned
	return ap, chk.problem()
}

// excluded reports whether ap is certainly not a booking request of shop
// in w. A missing lead source excludes even a malformed record: without it
// the appointment is staff-made whatever else is wrong with it.
func (ap appointment) excluded(shop int64, w window) bool {
	return ap.LeadSource == "" || ap.leadRecord.excluded(shop, w)
}

// booked says whether the customer committed. Tekmetric documents no
// confirmation flag; the statuses seen are NONE and ARRIVED (with
// arrived: true). Only a customer who arrived, or a status that says
// confirmed, counts: an appointment request is not yet a commitment, and
// guessing yes would silence the follow-up that wins the job.
func (ap appointment) booked() bool {
	return ap.Arrived || strings.EqualFold(ap.Status, "ARRIVED") || strings.EqualFold(ap.Status, "CONFIRMED")
}

// inquiry sums the appointment up by its description, which holds what
// the customer asked for; the title is often just the booking channel's
// name.
func (ap appointment) inquiry() lead.Inquiry {
	return ap.leadRecord.inquiry(prefixAppointment, lead.SourceAppointment, cmp.Or(ap.Description, ap.Title), ap.booked())
}

// version stands in for the version counter Tekmetric does not have: the
// updatedDate in milliseconds rises with every change Tekmetric records, so
// a changed record is ingested again while a repeated poll is not. Two
// edits within one millisecond (one second where Tekmetric writes whole
// seconds) share a version; the later one is then seen at the next change.
func version(updated time.Time) int64 { return updated.UnixMilli() }

func optionalID(id int64) string {
	if id <= 0 {
		return ""
	}
	return strconv.FormatInt(id, 10)
}

// FetchNewLeads lists the shop's estimates (repair orders in status
// Estimate) and customer-made appointments (those with a leadSource)
// updated in [since, until). Every page of both lists is read; every filter
// is checked again on each row, since updatedDateEnd is inclusive and
// appointments include deleted ones unless told otherwise. A malformed lead
// record does not fail the poll: it is returned with Problem set (a
// *crm.InvalidRecordError naming the field), so that the other leads of the
// window go on and the bad one fails in its own ingest job, where an
// operator sees it.
func (c *Client) FetchNewLeads(ctx context.Context, since, until time.Time) ([]lead.Inquiry, error) {
	if !until.After(since) {
		return nil, fmt.Errorf("error fetching leads for shop %d: window [%s, %s) is empty", c.shopID, since.Format(time.RFC3339Nano), until.Format(time.RFC3339Nano))
	}
	w := window{since: since, until: until}
	byID := map[string]lead.Inquiry{}
	var out []lead.Inquiry
	keep := func(in lead.Inquiry) {
		if in.ExternalID == "" {
			out = append(out, in)
			return
		}
		byID[in.ExternalID] = in
	}

	orders, err := c.listUpdated(ctx, "/api/v1/repair-orders", url.Values{"repairOrderStatusId": {strconv.Itoa(statusEstimate)}}, since, until)
	if err != nil {
		return nil, fmt.Errorf("error listing repair orders for shop %d: %w", c.shopID, err)
	}
	for _, raw := range orders {
		ro, err := c.decodeRepairOrder(raw)
		switch {
		case ro.excluded(c.shopID, w):
		case err != nil:
			keep(invalidInquiry(prefixRepairOrder, lead.SourceEstimate, ro.ID, err))
		default:
			keep(ro.inquiry())
		}
	}

	appts, err := c.listUpdated(ctx, "/api/v1/appointments", url.Values{"includeDeleted": {"false"}}, since, until)
	if err != nil {
		return nil, fmt.Errorf("error listing appointments for shop %d: %w", c.shopID, err)
	}
	for _, raw := range appts {
		ap, err := c.decodeAppointment(raw)
		switch {
		case ap.excluded(c.shopID, w):
		case err != nil:
			keep(invalidInquiry(prefixAppointment, lead.SourceAppointment, ap.ID, err))
		default:
			keep(ap.inquiry())
		}
	}

	for _, in := range byID {
		out = append(out, in)
	}
	slices.SortFunc(out, func(x, y lead.Inquiry) int {
		return cmp.Or(x.UpdatedAt.Compare(y.UpdatedAt), strings.Compare(x.ExternalID, y.ExternalID))
	})
	return out, nil
}

// invalidInquiry stands for a listed record that could not be decoded. It
// has no ExternalID when even the id was unreadable.
func invalidInquiry(prefix string, source lead.Source, id int64, problem error) lead.Inquiry {
	in := lead.Inquiry{Source: source, Problem: problem}
	if id > 0 {
		in.ExternalID = externalID(prefix, id)
	}
	return in
}

// GetLead fetches one repair order or appointment by the ExternalID
// FetchNewLeads gave it. A record of another shop, or a deleted one, is
// crm.ErrNotFound: for the orchestrator it is gone. A repair order that
// moved on from Estimate is returned, Booked when the move means the
// customer committed.
func (c *Client) GetLead(ctx context.Context, externalID string) (lead.Inquiry, error) {
	kind, idText, _ := strings.Cut(externalID, ":")
	id, err := parseID(idText)
	if err != nil || (kind+":" != prefixRepairOrder && kind+":" != prefixAppointment) {
		return lead.Inquiry{}, fmt.Errorf("error fetching lead %q: want repair-order:<id> or appointment:<id>: %w", externalID, crm.ErrNotFound)
	}
	desc := strings.ReplaceAll(kind, "-", " ")
	fail := func(err error) (lead.Inquiry, error) {
		return lead.Inquiry{}, fmt.Errorf("error fetching %s %d for shop %d: %w", desc, id, c.shopID, err)
	}
	raw, err := c.do(ctx, http.MethodGet, "/api/v1/"+kind+"s/"+strconv.FormatInt(id, 10), nil, nil)
	if err != nil {
		return fail(err)
	}
	if kind+":" == prefixRepairOrder {
		ro, err := c.decodeRepairOrder(raw)
		if err == nil {
			err = ro.gone(c.shopID)
		}
		if err != nil {
			return fail(err)
		}
		in := ro.inquiry()
		in.NotALead = ro.StatusID != 0 && ro.StatusID != statusEstimate
		return in, nil
	}
	ap, err := c.decodeAppointment(raw)
	if err == nil {
		err = ap.gone(c.shopID)
	}
	if err != nil {
		return fail(err)
	}
	in := ap.inquiry()
	in.NotALead = ap.LeadSource == ""
	return in, nil
}
