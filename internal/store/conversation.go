package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

// ThreadOpts names whose conversation Thread reads: one lead (by id, or by
// its CRM record) or every lead of a phone number. Exactly one of LeadID,
// ExternalID and Phone is set.
type ThreadOpts struct {
	LeadID uuid.UUID
	// CRM and ExternalID name a lead by its CRM record ("shopmonkey",
	// "order:123"), as the CRM's own ParseExternalID wrote it.
	CRM        string
	ExternalID string
	Phone      lead.PhoneNumber
}

// ThreadEventKind is what happened in a conversation.
type ThreadEventKind string

// The kinds of a thread's events. The inbound kinds (reply, auto_reply,
// stop, start, help, shop_answer) are the inbound_messages kinds.
const (
	// ThreadLead is the lead's creation in the CRM (and how we found it).
	ThreadLead ThreadEventKind = "lead"
	// ThreadMessage is our text or email to the customer: a step of the
	// sequence or the answer to a HELP.
	ThreadMessage ThreadEventKind = "message"
	// ThreadShopAnswerText is the text that carried a shop's answer to the
	// customer (step ShopAnswerStepPrefix and the answer's inbound id).
	ThreadShopAnswerText ThreadEventKind = "shop_answer_text"
	// ThreadShopNotice is a notice to the shop about the lead (a reply, a
	// missed call), sent to its notification address.
	ThreadShopNotice ThreadEventKind = "shop_notice"
	ThreadReply      ThreadEventKind = "reply"
	ThreadAutoReply  ThreadEventKind = "auto_reply"
	ThreadStop       ThreadEventKind = "stop"
	ThreadStart      ThreadEventKind = "start"
	ThreadHelp       ThreadEventKind = "help"
	ThreadShopAnswer ThreadEventKind = "shop_answer"
	// ThreadSuppressed is a suppressions row of the customer's number or
	// address: in force since then (a START deletes it).
	ThreadSuppressed ThreadEventKind = "suppressed"
	ThreadBooked     ThreadEventKind = "booked"
	ThreadOptedOut   ThreadEventKind = "opted_out"
	// ThreadCall is a call from the customer's number to the shop's.
	ThreadCall ThreadEventKind = "call"
)

// ShopAnswerStepPrefix starts the step of the text that carries a shop's
// answer to the customer (lead.ShopAnswerStep).
const ShopAnswerStepPrefix = lead.ShopAnswerStepPrefix

// ChannelVoice is a thread event's channel for a call.
const ChannelVoice = "voice"

// ThreadEvent is one entry of a conversation. Which fields are set depends
// on the kind; At, Kind and (for all but suppressions) LeadID always are.
type ThreadEvent struct {
	At   time.Time
	Kind ThreadEventKind
	// Channel is sms, email or voice ("" for a lead's own events).
	Channel string
	// Direction is "out" for what we sent, "in" for what reached us (a
	// customer's text, email or call, a shop's answer), "" otherwise.
	Direction string
	// Status is a message's outbox status, an inbound message's "handled"
	// or "received" (not acted on yet), a call's "missed", "answered" or
	// "ringing", a lead's current status.
	Status string
	// Reason is why: a message's last error, a suppression's reason and
	// source, a call's DialCallStatus.
	Reason  string
	Step    string
	LeadID  uuid.UUID
	From    string
	To      string
	Subject string
	// Body is what was said: a message's body, an inbound message's text
	// (an email's with quoted history stripped), a lead's summary.
	Body string
	// RawBody is an inbound email's text as it arrived, when it differs
	// from Body.
	RawBody string
	// Ref is the row's own id: a message's uuid, an inbound message's id,
	// a call's CallSid, a lead's CRM record.
	Ref string
	// AnswerID is, on a shop answer's text, the inbound id of the answer
	// it carries.
	AnswerID int64
	// Source and FoundVia are a lead event's source and how we found the
	// lead, at FoundAt.
	Source   string
	FoundVia string
	FoundAt  time.Time
	// AllowedBy is, on a message, the rule the guards let it go by
	// (messages.allowed_by; "" when it was never claimed).
	AllowedBy string
}

// Thread is one customer's conversation with a shop.
type Thread struct {
	// Leads are the leads the thread covers, oldest first.
	Leads []lead.Lead
	// Events are in time order; events at the same instant keep the order
	// of the kinds above (a lead before its messages).
	Events []ThreadEvent
}

// Thread reads one customer's conversation with the tenant: the leads'
// creation, booking and opt-out, their messages (texts, emails, shop
// answers, shop notices), the inbound messages of the leads or from the
// customer's numbers and addresses, the suppressions of those and the calls
// from those numbers.
//
// By lead it is that lead's thread, with every text and call from its
// number: handle_inbound applies a text to every lead of the number, so
// each lead's conversation holds it. By phone it merges every lead of the
// number. A lead of another tenant is ErrNotFound, as is a number with no
// lead, text or call at the tenant.
func (s *Store) Thread(ctx context.Context, tenantID uuid.UUID, opts ThreadOpts) (th Thread, err error) {
	if n := countSet(opts.LeadID != uuid.Nil, opts.ExternalID != "", opts.Phone != ""); n != 1 {
		return Thread{}, fmt.Errorf("store.Thread: want exactly one of LeadID, ExternalID and Phone, got %d", n)
	}
	db, done, err := s.open(ctx, tenantID)
	if err != nil {
		return Thread{}, err
	}
	defer done(&err)
	leads, err := threadLeads(ctx, db, tenantID, opts)
	if err != nil {
		return Thread{}, err
	}
	if opts.Phone == "" && len(leads) == 0 {
		return Thread{}, fmt.Errorf("lead %s: %w", threadLeadName(opts), ErrNotFound)
	}
	var notifyEmail string
	if err := db.QueryRow(ctx, `SELECT notify_email FROM tenants WHERE id = $1`, tenantID).Scan(&notifyEmail); err != nil {
		return Thread{}, fmt.Errorf("error reading the tenant's notify_email: %w", err)
	}
	c := newThreadContact(leads, opts.Phone)
	for _, l := range leads {
		th.Leads = append(th.Leads, l.Lead)
		th.Events = append(th.Events, l.events()...)
	}
	for _, read := range []func(context.Context, DBTX, uuid.UUID, threadContact, string) ([]ThreadEvent, error){
		threadMessages, threadInbound, threadSuppressions, threadCalls,
	} {
		events, err := read(ctx, db, tenantID, c, notifyEmail)
		if err != nil {
			return Thread{}, err
		}
		th.Events = append(th.Events, events...)
	}
	if len(th.Leads) == 0 && len(th.Events) == 0 {
		return Thread{}, fmt.Errorf("phone number %s: no lead, text or call: %w", opts.Phone, ErrNotFound)
	}
	slices.SortStableFunc(th.Events, func(a, b ThreadEvent) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return threadKindOrder(a.Kind) - threadKindOrder(b.Kind)
	})
	return th, nil
}

func countSet(set ...bool) int {
	n := 0
	for _, b := range set {
		if b {
			n++
		}
	}
	return n
}

func threadLeadName(opts ThreadOpts) string {
	if opts.ExternalID != "" {
		return opts.CRM + " " + opts.ExternalID
	}
	return opts.LeadID.String()
}

// threadKindOrder orders events of one instant: the lead first, then what
// we sent, what came in, and what followed from it.
func threadKindOrder(k ThreadEventKind) int {
	return slices.Index([]ThreadEventKind{ThreadLead, ThreadCall, ThreadMessage, ThreadShopNotice, ThreadReply, ThreadAutoReply,
		ThreadHelp, ThreadShopAnswer, ThreadShopAnswerText, ThreadStop, ThreadStart, ThreadSuppressed, ThreadOptedOut, ThreadBooked}, k)
}

// threadLeadTimes are the lead columns leadColumns leaves out.
const threadLeadTimes = `, booked_at, opted_out_at`

// threadLead is a lead with the times of its thread.
type threadLead struct {
	lead.Lead
	bookedAt, optedOutAt *time.Time
}

// extraRow scans a row of leadColumns and more: scanLead fills the lead,
// extra the rest.
type extraRow struct {
	pgx.Row
	extra []any
}

func (r extraRow) Scan(dest ...any) error { return r.Row.Scan(append(dest, r.extra...)...) }

// threadLeads reads the leads opts names, oldest first, with their booked
// and opted-out times.
func threadLeads(ctx context.Context, db DBTX, tenantID uuid.UUID, opts ThreadOpts) ([]threadLead, error) {
	where, args := `id = $2`, []any{tenantID, opts.LeadID}
	switch {
	case opts.Phone != "":
		where, args = `phone = $2`, []any{tenantID, string(opts.Phone)}
	case opts.ExternalID != "":
		where, args = `crm = $2 AND external_id = $3`, []any{tenantID, opts.CRM, opts.ExternalID}
	}
	rows, err := db.Query(ctx, `SELECT `+leadColumns+threadLeadTimes+` FROM leads
		WHERE tenant_id = $1 AND `+where+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("error reading the thread's leads: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (threadLead, error) {
		var tl threadLead
		l, err := scanLead(extraRow{Row: r, extra: []any{&tl.bookedAt, &tl.optedOutAt}})
		tl.Lead = l
		return tl, err
	})
	if err != nil {
		return nil, fmt.Errorf("error reading the thread's leads: %w", err)
	}
	return out, nil
}

// events are the lead's own: its creation, booking and opt-out.
func (l threadLead) events() []ThreadEvent {
	out := []ThreadEvent{{
		At: l.CRMCreatedAt, Kind: ThreadLead, Status: string(l.Status), LeadID: l.ID, Body: l.Summary,
		Ref: l.ExternalID, Source: string(l.Source), FoundVia: string(l.FoundVia), FoundAt: l.CreatedAt,
	}}
	if l.bookedAt != nil {
		out = append(out, ThreadEvent{At: *l.bookedAt, Kind: ThreadBooked, LeadID: l.ID})
	}
	if l.optedOutAt != nil {
		out = append(out, ThreadEvent{At: *l.optedOutAt, Kind: ThreadOptedOut, LeadID: l.ID})
	}
	return out
}

// threadContact is whom a thread is with: its leads, and the numbers and
// addresses (emails lower-cased) they can be reached at and write from.
type threadContact struct {
	ids    []string
	phones []string
	emails []string
}

func newThreadContact(leads []threadLead, phone lead.PhoneNumber) threadContact {
	var c threadContact
	if phone != "" {
		c.phones = append(c.phones, string(phone))
	}
	for _, l := range leads {
		c.ids = append(c.ids, l.ID.String())
		if l.Phone != "" && !slices.Contains(c.phones, string(l.Phone)) {
			c.phones = append(c.phones, string(l.Phone))
		}
		if e := strings.ToLower(string(l.Email)); e != "" && !slices.Contains(c.emails, e) {
			c.emails = append(c.emails, e)
		}
	}
	return c
}

// isShopNotice reports whether a message of the lead went to the shop
// rather than the customer: a notice (lead.NoticeStep), or an email to the
// tenant's notification address.
func isShopNotice(m lead.Message, notifyEmail string) bool {
	if (lead.Step{Name: m.Step}).IsNotice() {
		return true
	}
	return m.Channel == lead.ChannelEmail && notifyEmail != "" && strings.EqualFold(m.To, notifyEmail)
}

// threadMessages reads the outbox rows of the thread's leads. A message's
// time is when the provider took it, else when it was claimed, else when
// it was composed (a guard's skip, a suppression).
func threadMessages(ctx context.Context, db DBTX, tenantID uuid.UUID, c threadContact, notifyEmail string) ([]ThreadEvent, error) {
	rows, err := db.Query(ctx, `SELECT `+messageColumns+` FROM messages
		WHERE tenant_id = $1 AND lead_id = ANY($2::uuid[])`, tenantID, c.ids)
	if err != nil {
		return nil, fmt.Errorf("error reading the thread's messages: %w", err)
	}
	msgs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (lead.Message, error) { return scanMessage(r) })
	if err != nil {
		return nil, fmt.Errorf("error reading the thread's messages: %w", err)
	}
	out := make([]ThreadEvent, 0, len(msgs))
	for _, m := range msgs {
		e := ThreadEvent{
			At: m.CreatedAt, Kind: ThreadMessage, Channel: string(m.Channel), Direction: "out", Status: string(m.Status),
			Reason: m.LastError, Step: m.Step, LeadID: m.LeadID, From: m.From, To: m.To, Subject: m.Subject, Body: m.Body,
			Ref: m.ID.String(), AllowedBy: m.AllowedBy,
		}
		switch {
		case !m.SentAt.IsZero():
			e.At = m.SentAt
		case !m.SendingAt.IsZero():
			e.At = m.SendingAt
		}
		if answer, ok := strings.CutPrefix(m.Step, ShopAnswerStepPrefix); ok {
			e.Kind = ThreadShopAnswerText
			e.AnswerID, _ = strconv.ParseInt(answer, 10, 64)
		} else if isShopNotice(m, notifyEmail) {
			e.Kind = ThreadShopNotice
		}
		out = append(out, e)
	}
	return out, nil
}

// threadInbound reads the inbound messages of the thread's leads, every
// text from its numbers (a text answers for every lead of its number:
// handle_inbound applies it to each and records it against the newest),
// and the emails from its addresses that no lead took. An email reaches a
// lead through that lead's reply address, so one taken by another lead of
// the same customer belongs to that lead's thread.
func threadInbound(ctx context.Context, db DBTX, tenantID uuid.UUID, c threadContact, _ string) ([]ThreadEvent, error) {
	rows, err := db.Query(ctx, `SELECT `+inboundColumns+` FROM inbound_messages
		WHERE tenant_id = $1 AND (lead_id = ANY($2::uuid[])
			OR (channel = 'sms' AND from_address = ANY($3))
			OR (channel = 'email' AND lead_id IS NULL AND lower(from_address) = ANY($4)))`, tenantID, c.ids, c.phones, c.emails)
	if err != nil {
		return nil, fmt.Errorf("error reading the thread's inbound messages: %w", err)
	}
	in, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (InboundMessage, error) { return scanInbound(r) })
	if err != nil {
		return nil, fmt.Errorf("error reading the thread's inbound messages: %w", err)
	}
	out := make([]ThreadEvent, 0, len(in))
	for _, m := range in {
		e := ThreadEvent{
			At: m.ReceivedAt, Kind: ThreadEventKind(m.Kind), Channel: m.Channel, Direction: "in", Status: "received",
			LeadID: m.LeadID, From: m.From, To: m.To, Subject: m.Subject, Body: m.Body, Ref: strconv.FormatInt(m.ID, 10),
		}
		if !m.HandledAt.IsZero() {
			e.Status = "handled"
		}
		if m.RawBody != m.Body {
			e.RawBody = m.RawBody
		}
		out = append(out, e)
	}
	return out, nil
}

// threadSuppressions reads the suppressions of the thread's numbers and
// addresses.
func threadSuppressions(ctx context.Context, db DBTX, tenantID uuid.UUID, c threadContact, _ string) ([]ThreadEvent, error) {
	rows, err := db.Query(ctx, `SELECT channel, address, reason, source, created_at FROM suppressions
		WHERE tenant_id = $1 AND ((channel = 'sms' AND address = ANY($2)) OR (channel = 'email' AND lower(address) = ANY($3)))`,
		tenantID, c.phones, c.emails)
	if err != nil {
		return nil, fmt.Errorf("error reading the thread's suppressions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ThreadEvent, error) {
		e := ThreadEvent{Kind: ThreadSuppressed}
		var reason, source string
		err := r.Scan(&e.Channel, &e.To, &reason, &source, &e.At)
		e.Reason = reason + " (" + source + ")"
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("error reading the thread's suppressions: %w", err)
	}
	return out, nil
}

// threadCalls reads the calls of the thread's leads or from its numbers.
// A call is missed unless the shop's phone answered (Twilio's
// DialCallStatus completed, which a voicemail picking up is too).
func threadCalls(ctx context.Context, db DBTX, tenantID uuid.UUID, c threadContact, _ string) ([]ThreadEvent, error) {
	rows, err := db.Query(ctx, `SELECT call_sid, from_number, to_number, dial_status,
			coalesce(lead_id, '00000000-0000-0000-0000-000000000000'), received_at FROM calls
		WHERE tenant_id = $1 AND (lead_id = ANY($2::uuid[]) OR from_number = ANY($3))`, tenantID, c.ids, c.phones)
	if err != nil {
		return nil, fmt.Errorf("error reading the thread's calls: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ThreadEvent, error) {
		e := ThreadEvent{Kind: ThreadCall, Channel: ChannelVoice, Direction: "in"}
		err := r.Scan(&e.Ref, &e.From, &e.To, &e.Reason, &e.LeadID, &e.At)
		switch e.Reason {
		case "":
			e.Status = "ringing"
		case "completed":
			e.Status = "answered"
		default:
			e.Status = "missed"
		}
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("error reading the thread's calls: %w", err)
	}
	return out, nil
}
