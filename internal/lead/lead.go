// Package lead is the domain of the orchestrator: leads, customers, vehicles,
// tenants and the rules that decide what may be sent to whom. It does no I/O
// and imports nothing of ours, so every other package can depend on it.
package lead

import (
	"strings"
	"time"

	"github.com/google/uuid"
)

// Status is where a lead stands in its conversation with the shop.
type Status string

const (
	StatusNew       Status = "new"
	StatusContacted Status = "contacted"
	StatusReplied   Status = "replied"
	StatusBooked    Status = "booked"
	StatusOptedOut  Status = "opted_out"
	StatusClosed    Status = "closed"
)

// Source says what kind of CRM record a lead came from, or that it came
// from a missed call to the shop's number. Shops treat an estimate and a
// booking request differently, so templates can use it.
type Source string

const (
	SourceEstimate    Source = "estimate"
	SourceAppointment Source = "appointment"
	// SourceMissedCall is a caller the shop did not answer
	// (NewMissedCallLead); no CRM record stands behind it.
	SourceMissedCall Source = "missed_call"
)

// Valid reports whether s is a source the leads table accepts.
func (s Source) Valid() bool {
	switch s {
	case SourceEstimate, SourceAppointment, SourceMissedCall:
		return true
	}
	return false
}

// Inquiry is a lead as a CRM lists it, before it is joined with its customer
// and vehicle. Polls produce inquiries; ingest turns one into a Lead.
type Inquiry struct {
	// ExternalID identifies the record in its CRM, prefixed with the record
	// kind ("order:123", "appointment:abc") because a CRM's order and
	// appointment ids may collide.
	ExternalID string
	Source     Source
	CustomerID string
	VehicleID  string
	// Summary is what the customer asked for: the complaint of an estimate
	// or the title of a booking request.
	Summary   string
	CreatedAt time.Time
	UpdatedAt time.Time
	// Version increases with every change in the CRM; together with
	// ExternalID it makes an ingest job unique, so a record that changes is
	// looked at again but a repeated poll is not.
	Version int64
	// Booked is true when the CRM shows the customer has committed (an
	// authorized estimate or a confirmed appointment).
	Booked bool
	// NotALead is set by GetLead when the record it fetched is not an
	// inquiry (a staff-made appointment, an order past the estimate stage):
	// a webhook names any record that changed. Ingest may update a lead it
	// already has from it (a booking, say) but never creates one.
	NotALead bool
	// Problem is set when the CRM listed the record but a field of it is
	// malformed. A poll still passes such an inquiry on (when it has an
	// ExternalID), so that its own ingest job fails with the field named and
	// the rest of the window is not held up by one bad record.
	Problem error
	// Cleaned names the fields of the record whose text CleanText had to
	// repair ("order.complaint"); NewLead records each as a problem.
	Cleaned []string
}

// Customer is a CRM customer with every address the CRM holds for them.
// Phone numbers are kept as the CRM wrote them; NewLead normalises them.
type Customer struct {
	ExternalID     string
	FirstName      string
	LastName       string
	CompanyName    string
	Phones         []CustomerPhone
	Emails         []CustomerEmail
	MarketingOptIn bool
	// PreferredContact is the CRM's "SMS", "Email" or "All" (empty if unset).
	PreferredContact string
	// Address is where the customer lives, as far as the CRM says.
	Address CustomerAddress
	// Cleaned names the fields CleanText had to repair, as for Inquiry.
	Cleaned []string
}

// CustomerAddress is the part of a customer's postal address the
// recipient's clock needs, as the CRM wrote it: the state or province
// ("TX", "Texas", "ON") and the country ("US", "USA", "Canada"; often
// empty). NewLead reads it with ParseSubdivision into Lead.CustomerRegion.
type CustomerAddress struct {
	State   string
	Country string
	// Problem is set by an adapter when the CRM's address cannot be read
	// (a state that is a number, an address that is a string): the
	// address is only a hint of where the customer is, so NewLead records
	// it as a contact problem and keeps the lead, judging the customer's
	// clock by the number instead.
	Problem *ValidationError
}

// CustomerPhone is one phone record of a customer.
type CustomerPhone struct {
	Number  string
	Type    string
	Primary bool
	// OptIn is the CRM's SMS consent flag for this number.
	OptIn bool
	// OptInEvidence names the field OptIn was read from and its value
	// (the adapter knows its record's shape; the ingest stamps the time).
	OptInEvidence ConsentEvidence
}

// CustomerEmail is one email record of a customer.
type CustomerEmail struct {
	Address    string
	Primary    bool
	Subscribed bool
	// SubscribedEvidence names the field Subscribed was read from, as
	// CustomerPhone.OptInEvidence.
	SubscribedEvidence ConsentEvidence
}

// Vehicle is the customer's vehicle the lead is about.
type Vehicle struct {
	ExternalID   string
	Year         int
	Make         string
	Model        string
	Submodel     string
	VIN          string
	LicensePlate string
	// Cleaned names the fields CleanText had to repair, as for Inquiry.
	// It is not part of the vehicle as stored (leads.vehicle).
	Cleaned []string `json:"-"`
}

// Name is the vehicle as a shop would say it: "2019 Honda Civic EX".
func (v Vehicle) Name() string {
	s := ""
	add := func(part string) {
		if part == "" {
			return
		}
		if s != "" {
			s += " "
		}
		s += part
	}
	if v.Year > 0 {
		add(itoa(v.Year))
	}
	add(v.Make)
	add(v.Model)
	add(v.Submodel)
	return s
}

// Consent records what the customer agreed to, per channel, as the CRM
// reported it at ingest.
type Consent struct {
	SMS       bool `json:"sms"`
	Email     bool `json:"email"`
	Marketing bool `json:"marketing"`
}

// Lead is one customer inquiry, normalised and validated.
type Lead struct {
	ID         uuid.UUID
	TenantID   uuid.UUID
	CRM        string
	ExternalID string
	Source     Source
	Status     Status

	CustomerExternalID string
	VehicleExternalID  string

	FirstName string
	LastName  string
	Phone     PhoneNumber
	Email     Email
	Vehicle   Vehicle
	Summary   string
	Consent   Consent
	// CustomerRegion is the ISO 3166-2 code of the state or province of
	// the customer's address in the CRM ("US-TX"), or "" when the CRM has
	// none (or one we could not read, named in ContactProblem). Texts wait
	// for the hours allowed there (Tenant.RecipientOf).
	CustomerRegion string
	// ConsentEvidence is where Consent.SMS and Consent.Email came from
	// (which CRM field, its value, when we read it).
	ConsentEvidence ConsentEvidenceSet
	// ContactProblem lists every problem found in the CRM's records of
	// the lead, joined by "; ": a phone number or email that is not one
	// ("invalid customer.phone: has 7 digits, ..."), a vehicle the CRM no
	// longer has, text that had to be cleaned. The lead is kept and
	// reached on what is valid; the shop sees all there is to fix at once,
	// not the first thing. One text column rather than an array: only
	// people read it, nothing branches on it, and rows written before
	// stay valid without a migration.
	ContactProblem string
	// RepliedAt is when the customer first replied; zero if they never
	// did. It outlives StatusReplied (an opt-out and a later opt-in leave
	// the lead contacted), so a no_reply step still knows not to ask again.
	RepliedAt time.Time
	// FoundVia is how the orchestrator first saw the lead. The ingest that
	// stores the row sets it; a later ingest never changes it.
	FoundVia FoundVia

	CRMCreatedAt time.Time
	CRMUpdatedAt time.Time
	CRMVersion   int64

	CreatedAt time.Time
	UpdatedAt time.Time
}

// NewLead joins an inquiry with its customer and vehicle, choosing the
// customer's primary (else first) phone and email. A phone or email that is
// present but malformed is dropped and named in ContactProblem, because
// texting a guessed number is worse than not texting, while the other
// channel still reaches the customer. found are problems the caller met
// before the join (a vehicle the CRM no longer has): a lead needs a way to
// reach the customer, not a vehicle, so they are recorded, not fatal. A
// customer with no usable phone and no usable email is an error, since
// nobody could be reached; it names every problem found, each with its
// field, not only the first.
func NewLead(tenantID uuid.UUID, crmKind string, in Inquiry, c Customer, v Vehicle, found ...*ValidationError) (Lead, error) {
	return NewLeadIn(nil, tenantID, crmKind, in, c, v, found...)
}

// NewLeadIn is NewLead for a shop whose customers' numbers must be valid in
// regions (its Compliance.Regions; empty: US and Canada): a number of
// another region is dropped and named like a malformed one.
func NewLeadIn(regions []string, tenantID uuid.UUID, crmKind string, in Inquiry, c Customer, v Vehicle, found ...*ValidationError) (Lead, error) {
	l := Lead{
		TenantID:           tenantID,
		CRM:                crmKind,
		ExternalID:         in.ExternalID,
		Source:             in.Source,
		Status:             StatusNew,
		CustomerExternalID: in.CustomerID,
		VehicleExternalID:  in.VehicleID,
		FirstName:          c.FirstName,
		LastName:           c.LastName,
		Vehicle:            v,
		Summary:            in.Summary,
		CRMCreatedAt:       in.CreatedAt,
		CRMUpdatedAt:       in.UpdatedAt,
		CRMVersion:         in.Version,
		Consent:            Consent{Marketing: c.MarketingOptIn},
	}
	l.Vehicle.Cleaned = nil
	if in.Booked {
		l.Status = StatusBooked
	}
	if in.ExternalID == "" {
		return Lead{}, &ValidationError{Field: "external_id", Reason: "is empty"}
	}
	if in.Source != SourceEstimate && in.Source != SourceAppointment {
		return Lead{}, &ValidationError{Field: "source", Reason: "must be estimate or appointment, got " + quote(string(in.Source))}
	}
	if l.FirstName == "" && l.LastName == "" {
		l.FirstName = c.CompanyName
	}

	problems := append([]*ValidationError(nil), found...)
	problems = append(problems, cleanedProblems(in.Cleaned)...)
	problems = append(problems, cleanedProblems(c.Cleaned)...)
	problems = append(problems, cleanedProblems(v.Cleaned)...)
	if p, ok := pickPhone(c.Phones); ok {
		if num, err := ParsePhoneNumberIn(p.Number, regions); err != nil {
			problems = append(problems, &ValidationError{Field: "customer.phone", Reason: err.Error()})
		} else {
			l.Phone = num
			l.Consent.SMS = p.OptIn
			l.ConsentEvidence.SMS = p.OptInEvidence
		}
	}
	if e, ok := pickEmail(c.Emails); ok {
		if addr, err := ParseEmail(e.Address); err != nil {
			problems = append(problems, &ValidationError{Field: "customer.email", Reason: err.Error()})
		} else {
			l.Email = addr
			l.Consent.Email = e.Subscribed
			l.ConsentEvidence.Email = e.SubscribedEvidence
		}
	}
	problems = append(problems, l.readAddress(c.Address)...)
	l.ContactProblem = joinProblems(problems)
	if l.Phone == "" && l.Email == "" {
		// Named by the contact that failed (the phone, else the email),
		// with every other problem after it.
		first := &ValidationError{Field: "customer", Reason: "has neither a phone number nor an email address"}
		for _, p := range problems {
			if p.Field == "customer.phone" || p.Field == "customer.email" {
				first = p
				break
			}
		}
		var others []*ValidationError
		for _, p := range problems {
			if p != first {
				others = append(others, p)
			}
		}
		if len(others) == 0 {
			return Lead{}, first
		}
		return Lead{}, &ValidationError{Field: first.Field, Reason: first.Reason + "; also " + joinProblems(others)}
	}
	return l, nil
}

// readAddress sets CustomerRegion from the customer's address, or says
// why it cannot: the address is only a hint of where the customer is, so
// its problem is recorded and nothing else is lost.
func (l *Lead) readAddress(a CustomerAddress) []*ValidationError {
	if a.Problem != nil {
		return []*ValidationError{a.Problem}
	}
	sub, err := ParseSubdivision(a.State, a.Country)
	if err != nil {
		return []*ValidationError{{Field: "customer.address.state", Reason: err.Error()}}
	}
	l.CustomerRegion = sub.Code
	return nil
}

func joinProblems(ps []*ValidationError) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.Error()
	}
	return strings.Join(parts, "; ")
}

// InvalidTextField names the first field of l that Postgres cannot store
// as text (see InvalidText), as the leads column is called, or "" when
// every field is storable. The decoders clean what they read, so this is
// for the error that still gets through: it lets ingest say which field
// when Postgres only says "invalid byte sequence".
func (l Lead) InvalidTextField() string {
	for _, f := range []struct{ name, value string }{
		{"external_id", l.ExternalID},
		{"customer_external_id", l.CustomerExternalID},
		{"vehicle_external_id", l.VehicleExternalID},
		{"first_name", l.FirstName},
		{"last_name", l.LastName},
		{"phone", string(l.Phone)},
		{"email", string(l.Email)},
		{"summary", l.Summary},
		{"vehicle.make", l.Vehicle.Make},
		{"vehicle.model", l.Vehicle.Model},
		{"vehicle.submodel", l.Vehicle.Submodel},
		{"vehicle.vin", l.Vehicle.VIN},
		{"vehicle.license_plate", l.Vehicle.LicensePlate},
		{"vehicle.external_id", l.Vehicle.ExternalID},
		{"contact_problem", l.ContactProblem},
	} {
		if InvalidText(f.value) {
			return f.name
		}
	}
	return ""
}

func pickPhone(ps []CustomerPhone) (CustomerPhone, bool) {
	for _, p := range ps {
		if p.Primary && p.Number != "" {
			return p, true
		}
	}
	for _, p := range ps {
		if p.Number != "" {
			return p, true
		}
	}
	return CustomerPhone{}, false
}

func pickEmail(es []CustomerEmail) (CustomerEmail, bool) {
	for _, e := range es {
		if e.Primary && e.Address != "" {
			return e, true
		}
	}
	for _, e := range es {
		if e.Address != "" {
			return e, true
		}
	}
	return CustomerEmail{}, false
}
