package lead

import (
	"strings"
	"time"
)

// ConsentEvidence is where a channel's consent came from: the CRM field we
// read, the value it held and when we read it. It is kept with the lead
// so that a shop asked "why did you text me" can point at its own CRM
// record ("shopmonkey customer.phoneNumbers[0].optIn=true read ..."), not
// at a bare yes. The zero value is "no evidence": a lead stored before
// evidence was kept, or a channel the customer gave no address for.
type ConsentEvidence struct {
	// CRM is the kind whose record held the field ("shopmonkey").
	CRM string `json:"crm,omitempty"`
	// Field is the field's path in the CRM's record, as the adapter
	// names it in its errors ("customer.phoneNumbers[0].optIn").
	Field string `json:"field,omitempty"`
	// Value is the field's value as the CRM wrote it ("true", "false"),
	// or "absent" when the record did not have it (read as no consent).
	Value string `json:"value,omitempty"`
	// ReadAt is when the ingest read the record.
	ReadAt time.Time `json:"read_at,omitzero"`
}

// ConsentValueAbsent is ConsentEvidence.Value of a field the CRM's record
// did not have (or had as null).
const ConsentValueAbsent = "absent"

// IsZero reports whether there is no evidence.
func (e ConsentEvidence) IsZero() bool { return e.Field == "" }

// String is the evidence in one line, as operators and shops read it:
// "shopmonkey customer.phoneNumbers[0].optIn=true read 2026-12-01T10:00Z".
func (e ConsentEvidence) String() string {
	if e.IsZero() {
		return "no record of where consent came from"
	}
	var b strings.Builder
	if e.CRM != "" {
		b.WriteString(e.CRM + " ")
	}
	b.WriteString(e.Field + "=" + e.Value)
	if !e.ReadAt.IsZero() {
		b.WriteString(" read " + e.ReadAt.UTC().Format("2006-01-02T15:04Z"))
	}
	return b.String()
}

// ConsentEvidenceSet is the evidence of each channel of a lead, stored as
// the lead's consent_evidence (JSON, these tags).
type ConsentEvidenceSet struct {
	SMS   ConsentEvidence `json:"sms,omitzero"`
	Email ConsentEvidence `json:"email,omitzero"`
}

// Of is the evidence of channel ch (zero for an unknown channel).
func (s ConsentEvidenceSet) Of(ch Channel) ConsentEvidence {
	switch ch {
	case ChannelSMS:
		return s.SMS
	case ChannelEmail:
		return s.Email
	}
	return ConsentEvidence{}
}

// Stamp sets when the record was read, and by which CRM, on every channel
// that has evidence: the adapter decodes the field, the ingest knows the
// clock and the kind.
func (s ConsentEvidenceSet) Stamp(crmKind string, readAt time.Time) ConsentEvidenceSet {
	for _, e := range []*ConsentEvidence{&s.SMS, &s.Email} {
		if e.IsZero() {
			continue
		}
		if e.CRM == "" {
			e.CRM = crmKind
		}
		e.ReadAt = readAt.UTC()
	}
	return s
}
