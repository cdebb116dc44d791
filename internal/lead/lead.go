// Package lead is the domain of the orchestrator: leads, customers, vehicles,
// tenants and the rules that decide what may be sent to whom. It does no I/O
// and imports nothing of ours, so every other package can depend on it.
package lead

import (
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

// Source says what kind of CRM record a lead came from. Shops treat an
// estimate and a booking request differently, so templates can use it.
type Source string

const (
	SourceEstimate    Source = "estimate"
	SourceAppointment Source = "appointment"
)

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
}

// CustomerPhone is one phone record of a customer.
type CustomerPhone struct {
	Number  string
	Type    string
	Primary bool
	// OptIn is the CRM's SMS consent flag for this number.
	OptIn bool
}

// CustomerEmail is one email record of a customer.
type CustomerEmail struct {
	Address    string
	Primary    bool
	Subscribed bool
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
	// ContactProblem says what was wrong with a phone number or email the
	// CRM holds ("customer.phone: has 7 digits, ..."). The lead is kept
	// and reached on what is valid; the shop sees what to fix.
	ContactProblem string
	// RepliedAt is when the customer first replied; zero if they never
	// did. It outlives StatusReplied (an opt-out and a later opt-in leave
	// the lead contacted), so a no_reply step still knows not to ask again.
	RepliedAt time.Time

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
// channel still reaches the customer. A customer with no usable phone and no
// usable email is an error naming the field, since nobody could be reached.
func NewLead(tenantID uuid.UUID, crmKind string, in Inquiry, c Customer, v Vehicle) (Lead, error) {
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

	var problems []*ValidationError
	if p, ok := pickPhone(c.Phones); ok {
		if num, err := ParsePhoneNumber(p.Number); err != nil {
			problems = append(problems, &ValidationError{Field: "customer.phone", Reason: err.Error()})
		} else {
			l.Phone = num
			l.Consent.SMS = p.OptIn
		}
	}
	if e, ok := pickEmail(c.Emails); ok {
		if addr, err := ParseEmail(e.Address); err != nil {
			problems = append(problems, &ValidationError{Field: "customer.email", Reason: err.Error()})
		} else {
			l.Email = addr
			l.Consent.Email = e.Subscribed
		}
	}
	if l.Phone == "" && l.Email == "" {
		if len(problems) > 0 {
			return Lead{}, problems[0]
		}
		return Lead{}, &ValidationError{Field: "customer", Reason: "has neither a phone number nor an email address"}
	}
	for i, p := range problems {
		if i > 0 {
			l.ContactProblem += "; "
		}
		l.ContactProblem += p.Error()
	}
	return l, nil
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
