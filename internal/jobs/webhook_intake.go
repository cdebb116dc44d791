package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/messaging"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// WebhookIntake turns verified webhooks into jobs: it is the intake
// (httpapi.Intake) the webhook routes hand what they verified to. Each
// call is one transaction (a delivery's dedupe record and its job commit
// together), so a handler answers in milliseconds and a failure makes the
// provider redeliver.
type WebhookIntake struct {
	Pool   *pgxpool.Pool
	Client *river.Client[pgx.Tx]

	// IntakePerMinute and IntakeBurst are each tenant's CRM webhook
	// budget across the fleet (webhooks.intake_per_minute and
	// webhooks.intake_burst); Admit spends it.
	IntakePerMinute int
	IntakeBurst     int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger hears of what an intake drops; nil logs nothing.
	Logger *slog.Logger
}

// AdmitIngest spends one delivery of the tenant's CRM webhook budget,
// shared by every replica. It returns zero when the delivery may be taken,
// else how long until one may; the route then answers 429 and enqueues
// nothing. Without it one shop's webhook credential could insert live
// ingests without limit, ahead of every other shop's leads.
func (w *WebhookIntake) AdmitIngest(ctx context.Context, tenantID uuid.UUID) (time.Duration, error) {
	return store.New(w.Pool).TakeWebhookIntake(ctx, tenantID, w.IntakePerMinute, w.IntakeBurst, w.now())
}

// now reads the intake's clock.
func (w *WebhookIntake) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

// Ingest enqueues ingest_lead for the CRM record a webhook of kind named,
// e.ExternalID (to be fetched again by id: nothing in the webhook is
// trusted). e.DeliveryID, when not empty, is the CRM's delivery id: a
// redelivery enqueues nothing. e.Version is the record's version as the
// webhook carried it, or 0 when it carried none (the job is then Latest):
// never a clock reading, which made every delivery a new job. The job runs
// at the head of the live CRM queue.
//
// At most one live ingest of a record waits at a time: when one is already
// pending (not yet running), the delivery enqueues nothing, since that job
// fetches the record when it runs and so sees this change too. A running
// one does not count: it may have fetched the record before the change.
func (w *WebhookIntake) Ingest(ctx context.Context, tenantID uuid.UUID, kind string, e crm.WebhookEvent) error {
	return pgx.BeginFunc(ctx, w.Pool, func(tx pgx.Tx) error {
		if e.DeliveryID != "" {
			isNew, err := store.New(tx).TakeWebhookDelivery(ctx, tenantID, kind, e.DeliveryID)
			if err != nil || !isNew {
				return err
			}
		}
		pending, err := pendingLiveIngest(ctx, tx, tenantID, e.ExternalID)
		if err != nil || pending {
			return err
		}
		_, err = w.Client.InsertTx(ctx, tx, IngestLeadArgs{TenantID: tenantID, ExternalID: e.ExternalID, Version: e.Version, Latest: e.Version == 0, SendMessages: true,
			FoundVia: lead.FoundViaWebhook},
			&river.InsertOpts{Priority: 1})
		if err != nil {
			return fmt.Errorf("error enqueueing ingest of %s: %w", e.ExternalID, err)
		}
		return nil
	})
}

// webhookRecordLock is the first key of the transaction-level advisory
// locks that serialise the webhook deliveries of one record ("wh").
const webhookRecordLock int32 = 0x7768

// pendingLiveIngest reports, in tx, whether a live ingest (one that
// messages, on the live crm queue) of the tenant's record is waiting to
// run. A backfill's ingest does not count, even one that messages: it
// waits behind the whole backfill on its own queue, and a customer's
// change folded into it waited with it (a review found it). It first takes a
// lock on the record until tx ends, so that of two deliveries racing on
// two replicas the second sees the first one's job. River's unique jobs
// cannot say this: their key includes the version, and a unique key that
// leaves it out would have to cover running jobs too (River requires it),
// dropping a change made while a run was under way.
func pendingLiveIngest(ctx context.Context, tx pgx.Tx, tenantID uuid.UUID, externalID string) (bool, error) {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1, hashtext($2))`,
		webhookRecordLock, tenantID.String()+"/"+externalID); err != nil {
		return false, fmt.Errorf("error locking webhooks of %s: %w", externalID, err)
	}
	var pending bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM river_job
		WHERE kind = $1 AND queue = $4 AND state IN ('available', 'pending', 'scheduled', 'retryable')
		AND args @> jsonb_build_object('tenant_id', $2::text, 'external_id', $3::text, 'send_messages', true))`,
		(IngestLeadArgs{}).Kind(), tenantID.String(), externalID, QueueCRM).Scan(&pending)
	if err != nil {
		return false, fmt.Errorf("error looking for a pending ingest of %s: %w", externalID, err)
	}
	return pending, nil
}

// Inbound stores a customer's text in the tenant's inbound_messages (under
// row-level security) and enqueues handle_inbound_message naming the row,
// in one transaction: the job's args carry no number and no body. A
// redelivery (the same ProviderID) stores and enqueues nothing.
func (w *WebhookIntake) Inbound(ctx context.Context, tenantID uuid.UUID, m messaging.InboundText) error {
	return pgx.BeginFunc(ctx, w.Pool, func(tx pgx.Tx) error {
		id, isNew, err := store.New(tx).RecordInbound(ctx, tenantID, inboundMessage(m))
		if err != nil || !isNew {
			return err
		}
		if _, err := w.Client.InsertTx(ctx, tx, HandleInboundArgs{TenantID: tenantID, InboundID: id}, nil); err != nil {
			return fmt.Errorf("error enqueueing inbound message %s: %w", m.ProviderID, err)
		}
		return nil
	})
}

// inboundMessage is the row a text is stored as: the sender's number in
// E.164 when it is one (the form the leads and suppressions hold), as sent
// otherwise, for handle_inbound_message to refuse by name.
func inboundMessage(m messaging.InboundText) store.InboundMessage {
	from := m.From
	if p, err := lead.ParseAnyPhoneNumber(m.From); err == nil {
		from = string(p)
	}
	return store.InboundMessage{ProviderID: m.ProviderID, From: from, To: m.To, Body: m.Body,
		Kind: string(inboundKind(m.OptOutType, m.Body)), ReceivedAt: m.ReceivedAt}
}

// EmailEvents stores a verified SendGrid event batch, split by tenant, each
// tenant's share in its own email_event_batches row (under row-level
// security), and enqueues one record_email_event_batch per share naming
// the row, all in one transaction: SendGrid gets its 200 only when every
// event is safely stored, and the jobs' args carry no address. deliveryKey
// names the signed delivery: a replay of a captured batch finds every
// share's key taken and enqueues nothing. Events of a tenant deleted since
// are dropped (and logged).
func (w *WebhookIntake) EmailEvents(ctx context.Context, deliveryKey string, events []messaging.EmailEvent) error {
	byTenant, order, err := eventsByTenant(events)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, w.Pool, func(tx pgx.Tx) error {
		st := store.New(tx)
		params := make([]river.InsertManyParams, 0, len(order))
		for _, tenantID := range order {
			raw, err := json.Marshal(byTenant[tenantID])
			if err != nil {
				return fmt.Errorf("error encoding the events of tenant %s: %w", tenantID, err)
			}
			id, isNew, err := st.TakeEmailEventBatch(ctx, tenantID, deliveryKey, raw)
			if errors.Is(err, store.ErrNotFound) {
				if w.Logger != nil {
					w.Logger.WarnContext(ctx, "sendgrid events for a tenant that does not exist; dropped",
						slog.String("tenant_id", tenantID.String()), slog.Int("events", len(byTenant[tenantID])))
				}
				continue
			}
			if err != nil {
				return err
			}
			if isNew {
				params = append(params, river.InsertManyParams{Args: RecordEmailEventsArgs{TenantID: tenantID, BatchID: id}})
			}
		}
		if len(params) == 0 {
			return nil
		}
		if _, err := w.Client.InsertManyTx(ctx, tx, params); err != nil {
			return fmt.Errorf("error enqueueing email events: %w", err)
		}
		return nil
	})
}

// eventsByTenant splits a batch by tenant, tenants in the order they first
// appear.
func eventsByTenant(events []messaging.EmailEvent) (map[uuid.UUID][]messaging.EmailEvent, []uuid.UUID, error) {
	byTenant := map[uuid.UUID][]messaging.EmailEvent{}
	var order []uuid.UUID
	for _, e := range events {
		id, err := uuid.Parse(e.TenantID)
		if err != nil {
			return nil, nil, fmt.Errorf("event for message %s: field tenant_id: %w", e.MessageID, err)
		}
		if _, ok := byTenant[id]; !ok {
			order = append(order, id)
		}
		byTenant[id] = append(byTenant[id], e)
	}
	return byTenant, order, nil
}

// SMSStatus enqueues a delivery status callback of the tenant's text.
func (w *WebhookIntake) SMSStatus(ctx context.Context, tenantID uuid.UUID, s messaging.SMSStatus) error {
	args := RecordSMSStatusArgs{TenantID: tenantID, MessageSID: s.ProviderID, Status: s.Status, ErrorCode: s.ErrorCode,
		Verdict: s.Verdict}
	if _, err := w.Client.Insert(ctx, args, nil); err != nil {
		return fmt.Errorf("error enqueueing status of message %s: %w", s.ProviderID, err)
	}
	return nil
}

// InboundEmail stores an email sent to a reply address, as an inbound
// message of the lead the address belongs to (the customer's reply, or
// the shop's answer to its notice), and enqueues its handling, in one
// transaction under the tenant's row-level security. The first of its
// envelope recipients that is a reply address of ours routes it; none is
// messaging.ErrUnknownReplyAddress, and nothing is stored.
func (w *WebhookIntake) InboundEmail(ctx context.Context, m messaging.InboundEmail) error {
	owner, err := w.replyAddressOwner(ctx, m.Recipients)
	if err != nil {
		return err
	}
	row := store.InboundMessage{ProviderID: m.MessageID, LeadID: owner.LeadID, From: m.From, To: strings.Join(m.Recipients, ", "),
		Channel: string(lead.ChannelEmail), Subject: m.Subject, RawBody: m.Text, Body: lead.StripEmailReply(m.Text),
		Kind: string(emailKind(owner.Purpose, m)), ReceivedAt: m.ReceivedAt}
	return pgx.BeginFunc(ctx, w.Pool, func(tx pgx.Tx) error {
		id, isNew, err := store.New(tx).RecordInbound(ctx, owner.TenantID, row)
		if err != nil || !isNew {
			return err
		}
		if _, err := w.Client.InsertTx(ctx, tx, HandleInboundEmailArgs{TenantID: owner.TenantID, InboundID: id}, nil); err != nil {
			return fmt.Errorf("error enqueueing inbound email %s: %w", m.MessageID, err)
		}
		return nil
	})
}

// replyAddressOwner is the tenant, lead and purpose of the first
// recipient that is a reply address we gave out.
func (w *WebhookIntake) replyAddressOwner(ctx context.Context, recipients []string) (store.ReplyAddressOwner, error) {
	st := store.New(w.Pool)
	for _, r := range recipients {
		token, ok := lead.ReplyToken(r)
		if !ok {
			continue
		}
		owner, err := st.ResolveReplyToken(ctx, token)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		return owner, err
	}
	return store.ReplyAddressOwner{}, fmt.Errorf("inbound email to %d recipient(s): %w", len(recipients), messaging.ErrUnknownReplyAddress)
}

// emailKind is what an inbound email is, read when it arrives: a
// program's mail (an out-of-office, a bounce) stops nothing whoever it
// answers; to a shop's address it is the shop's answer; from a customer,
// an opt-out word is a STOP for the address and anything else a reply.
func emailKind(purpose lead.ReplyPurpose, m messaging.InboundEmail) lead.InboundKind {
	switch {
	case m.Automatic != "":
		return lead.InboundAutoReply
	case purpose == lead.ReplyShop:
		return lead.InboundShopAnswer
	}
	// START is not taken by email: a reply address is not proof of who
	// writes, and lifting a suppression needs that more than adding one.
	if lead.ClassifyInbound(firstLine(lead.StripEmailReply(m.Text))) == lead.InboundStop {
		return lead.InboundStop
	}
	return lead.InboundReply
}

// firstLine is text's first non-blank line: a customer who writes STOP
// above their phone's signature still means STOP.
func firstLine(text string) string {
	for _, l := range strings.Split(text, "\n") {
		if strings.TrimSpace(l) != "" {
			return l
		}
	}
	return ""
}
