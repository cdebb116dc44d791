package lead

import (
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// A missed call becomes a lead: the caller is a customer who tried to
// reach the shop and did not, which is the most urgent lead there is. The
// caller gets one text (the tenant's MissedCallText) and the shop a notice.

// MissedCallStepPrefix starts the step name of the text that answers one
// missed call (MissedCallStep); no sequence step may use it.
const MissedCallStepPrefix = "missed-call-"

// MissedCallTextEvery is how often one number may get a missed-call text
// at most: a customer who calls three times in an hour while the shop is
// under a car gets one "sorry we missed you", not three.
const MissedCallTextEvery = 24 * time.Hour

// MissedCallStep names the one-off step that texts the caller of the
// tenant's call row callID. The name holds our row id, never Twilio's
// CallSid: step names are short plain keys (outbox rows, job args).
func MissedCallStep(callID int64) string {
	return MissedCallStepPrefix + strconv.FormatInt(callID, 10)
}

// IsMissedCallText reports whether the step texts a missed call's caller
// (see MissedCallStep) rather than belonging to a sequence.
func (s Step) IsMissedCallText() bool { return strings.HasPrefix(s.Name, MissedCallStepPrefix) }

// MissedCallExternalIDPrefix starts the external id of a missed-call lead:
// "call:" and Twilio's CallSid. A CRM's ids never start so, so the lead
// cannot collide with a CRM record of the same tenant.
const MissedCallExternalIDPrefix = "call:"

// NewMissedCallLead is the lead of a caller whose call the shop missed: a
// customer known only by the number they called from. It is stored under
// the tenant's CRM kind (the lead belongs to the shop, whose CRM may
// later hold the customer too) with no consent on record: the caller gave
// their number by calling, which counts as the first reply to an inquiry
// the customer started (ConsentPolicy), never as consent to follow-ups.
func NewMissedCallLead(tenantID uuid.UUID, crmKind, callSid string, from PhoneNumber, calledAt time.Time) (Lead, error) {
	switch {
	case callSid == "":
		return Lead{}, &ValidationError{Field: "call_sid", Reason: "is empty"}
	case from == "":
		return Lead{}, &ValidationError{Field: "from", Reason: "is empty"}
	case crmKind == "":
		return Lead{}, &ValidationError{Field: "crm", Reason: "is empty"}
	}
	return Lead{
		TenantID:     tenantID,
		CRM:          crmKind,
		ExternalID:   MissedCallExternalIDPrefix + callSid,
		Source:       SourceMissedCall,
		Status:       StatusNew,
		Phone:        from,
		Summary:      "Missed call",
		CRMCreatedAt: calledAt,
		CRMUpdatedAt: calledAt,
		// Twilio's voice webhook is how we saw it.
		FoundVia: FoundViaWebhook,
	}, nil
}
