package jobs

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/messaging"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// dialStatusNoShopPhone is the dial status of a call that could not be
// forwarded because the shop set no phone: nobody answered it.
const dialStatusNoShopPhone = "no-answer"

// CallStarted stores a call to the shop's number (httpapi.CallIntake),
// once per CallSid. A call already missed (the shop has no phone to ring)
// is ended at once and its handle_missed_call enqueued in the same
// transaction; a redelivery stores and enqueues nothing.
func (w *WebhookIntake) CallStarted(ctx context.Context, tenantID uuid.UUID, c messaging.VoiceCall, missed bool) error {
	return pgx.BeginFunc(ctx, w.Pool, func(tx pgx.Tx) error {
		row := storedCall(c)
		if !missed {
			_, _, err := store.New(tx).RecordCall(ctx, tenantID, row)
			return err
		}
		row.DialStatus, row.EndedAt = dialStatusNoShopPhone, w.now()
		return w.endCall(ctx, tx, tenantID, row, true)
	})
}

// CallEnded records how the forward of a call ended and, when nobody
// answered, enqueues handle_missed_call naming the call row, in one
// transaction: the job's args carry no number. Only the first report of a
// call counts.
func (w *WebhookIntake) CallEnded(ctx context.Context, tenantID uuid.UUID, d messaging.DialOutcome) error {
	return pgx.BeginFunc(ctx, w.Pool, func(tx pgx.Tx) error {
		row := storedCall(d.VoiceCall)
		row.DialStatus, row.EndedAt = d.DialStatus, w.now()
		return w.endCall(ctx, tx, tenantID, row, d.Missed())
	})
}

// endCall ends the call in tx and, when it was missed and this is its
// first report, enqueues its handling.
func (w *WebhookIntake) endCall(ctx context.Context, tx pgx.Tx, tenantID uuid.UUID, row store.Call, missed bool) error {
	id, ended, err := store.New(tx).EndCall(ctx, tenantID, row)
	if err != nil || !ended || !missed {
		return err
	}
	if _, err := w.Client.InsertTx(ctx, tx, HandleMissedCallArgs{TenantID: tenantID, CallID: id}, nil); err != nil {
		return fmt.Errorf("error enqueueing missed call %s: %w", row.CallSid, err)
	}
	return nil
}

// withheldCaller is the from_number of a call whose caller withheld their
// number. It is not a phone number, so handle_missed_call makes no lead of
// it: the provider's placeholder may parse as one (Twilio's +266696687 is
// a number in Lesotho) and would be texted.
const withheldCaller = "anonymous"

// storedCall is the row a call is stored as: the caller's number in E.164
// when it is one (the form leads, suppressions and the once-a-day check
// hold), withheldCaller for a withheld one, as sent otherwise.
func storedCall(c messaging.VoiceCall) store.Call {
	from := c.From
	if p, err := lead.ParseAnyPhoneNumber(c.From); err == nil {
		from = string(p)
	}
	if c.CallerWithheld {
		from = withheldCaller
	}
	return store.Call{CallSid: c.ProviderID, From: from, To: c.To}
}
