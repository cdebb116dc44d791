package jobs_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/fixture"
	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
	fakeshopmonkey "github.com/leadorch/lead-orchestrator/internal/sandbox/shopmonkey"
	faketekmetric "github.com/leadorch/lead-orchestrator/internal/sandbox/tekmetric"
)

// bookingWorld is one shop with online booking on, one lead of it that
// the CRM fake knows (customer and vehicle), the lead's booking link, and
// the desk the page would call.
type bookingWorld struct {
	*testBundle
	tenant lead.Tenant
	ref    fake.LeadRef
	leadID uuid.UUID
	token  string
	client *river.Client[pgx.Tx]
	desk   *jobs.BookingDesk
}

func newBookingWorld(t *testing.T, mutate ...func(*lead.Tenant)) *bookingWorld {
	t.Helper()
	b := setup(t)
	return b.bookingWorld(t, b.addShop(t, "bk"), mutate...)
}

// newTekmetricBookingWorld is newBookingWorld on a Tekmetric shop, whose
// adapter moves and cancels appointments itself.
func newTekmetricBookingWorld(t *testing.T) *bookingWorld {
	t.Helper()
	b := setup(t)
	return b.bookingWorld(t, b.addTekmetricShop(t, "bk", 4242, nil))
}

func (b *testBundle) bookingWorld(t *testing.T, tenant lead.Tenant, mutate ...func(*lead.Tenant)) *bookingWorld {
	t.Helper()
	ctx := context.Background()
	b.deps.PublicURL = "https://book.test"
	fixture.BookingOn(&tenant)
	tenant.NotifyEmail = "desk@bk.example.com"
	for _, m := range mutate {
		m(&tenant)
	}
	tenant, err := b.store.UpdateTenant(ctx, tenant, nil)
	require.NoError(t, err)
	w := &bookingWorld{testBundle: b, tenant: tenant}
	w.ref, w.leadID = w.addLead(t, 1)
	w.token = w.linkFor(t, w.leadID, time.Hour)
	w.client = b.startClient(t, jobs.ClientOpts{})
	w.desk = jobs.NewBookingDesk(b.deps, w.client)
	return w
}

// addLead adds a lead to the CRM fake and stores it as ingested.
func (w *bookingWorld) addLead(t *testing.T, n int) (fake.LeadRef, uuid.UUID) {
	t.Helper()
	var ref fake.LeadRef
	var err error
	if w.tenant.CRMKind == "tekmetric" {
		ref, err = w.sandbox.Tekmetric.AddLead(4242, faketekmetric.LeadSpec{})
	} else {
		ref, err = w.sandbox.ShopMonkey.AddLead(w.tenant.CRMLocationID, fakeshopmonkey.LeadSpec{})
	}
	require.NoError(t, err)
	id, _, err := w.store.UpsertLead(context.Background(), w.tenant.ID, fixture.Lead(ref.ExternalID, func(l *lead.Lead) {
		l.CustomerExternalID, l.VehicleExternalID = ref.CustomerID, ref.VehicleID
		l.LastName, l.Phone, l.Email = "Lee", lead.PhoneNumber(fmt.Sprintf("+1512555%04d", n)), lead.Email(fmt.Sprintf("ann%d@example.com", n))
		l.Consent = lead.Consent{SMS: true, Email: true}
		l.Summary = "Brakes squeal"
	}), false)
	require.NoError(t, err)
	return ref, id
}

// linkFor opens the lead's booking link for ttl, as a message carrying it
// does, and returns its token.
func (w *bookingWorld) linkFor(t *testing.T, leadID uuid.UUID, ttl time.Duration) string {
	t.Helper()
	token := w.keys.LinkToken(w.tenant.ID, leadID)
	require.NoError(t, w.store.TouchBookingLink(context.Background(), w.tenant.ID, leadID, jobs.BookingTokenHash(token), time.Now().Add(ttl)))
	return token
}

// book asks the desk for the offer's n-th slot under key.
func (w *bookingWorld) book(t *testing.T, token string, n int, key string) (lead.Booking, lead.Slot) {
	t.Helper()
	offer, err := w.desk.Offer(context.Background(), token)
	require.NoError(t, err)
	require.Greater(t, len(offer.Slots), n, "open slots")
	slot := offer.Slots[n]
	b, err := w.desk.Request(context.Background(), token, lead.BookingRequest{Action: lead.BookingBook, Key: key, Start: slot.Start})
	require.NoError(t, err)
	return b, slot
}

// waitBooking waits until the booking leaves requested and booking.
func (w *bookingWorld) waitBooking(t *testing.T, token string, id uuid.UUID) lead.Booking {
	t.Helper()
	var b lead.Booking
	require.Eventually(t, func() bool {
		var err error
		b, err = w.desk.Booking(context.Background(), token, id)
		require.NoError(t, err)
		return b.State != lead.BookingRequested && b.State != lead.BookingInProgress
	}, 30*time.Second, 20*time.Millisecond)
	return b
}

// bookingTexts returns the bodies of the lead's booking confirmations.
func (w *bookingWorld) bookingTexts(t *testing.T, leadID uuid.UUID) map[string]string {
	t.Helper()
	msgs, err := w.store.ListLeadMessages(context.Background(), w.tenant.ID, leadID)
	require.NoError(t, err)
	out := map[string]string{}
	for _, m := range msgs {
		if (lead.Step{Name: m.Step}).IsBookingText() {
			out[m.Step] = m.Body
		}
	}
	return out
}

// TestBookingBooksOnce: a chosen slot is recorded with its job, booked in
// the CRM once, and then the lead is booked, its follow-up stopped, the
// shop told and the customer texted the time with the link to change it.
// The same key again (a double tap) and another key (a second tab) return
// the same booking.
func TestBookingBooksOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newBookingWorld(t)
	followUp, err := w.client.Insert(ctx, jobs.SendSMSArgs{TenantID: w.tenant.ID, LeadID: w.leadID, Step: "day1"},
		&river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)})
	require.NoError(t, err)

	first, slot := w.book(t, w.token, 0, "tap-1")
	again, err := w.desk.Request(ctx, w.token, lead.BookingRequest{Action: lead.BookingBook, Key: "tap-1", Start: slot.Start})
	require.NoError(t, err)
	require.Equal(t, first.ID, again.ID, "a double tap is one request")
	second, _ := w.book(t, w.token, 1, "tab-2")
	require.Equal(t, first.ID, second.ID, "a second tab finds the live booking")

	b := w.waitBooking(t, w.token, first.ID)
	require.Equal(t, lead.BookingBooked, b.State, b.Reason)
	require.NotEmpty(t, b.CRMAppointmentID)
	require.Equal(t, 1, w.sandbox.ShopMonkey.AppointmentsCreated(w.ref.CustomerID, slot.Start))
	w.settled(t, "book_appointment", "send_sms", "notify_shop", "send_email")

	l, err := w.store.GetLead(ctx, w.tenant.ID, w.leadID)
	require.NoError(t, err)
	require.Equal(t, lead.StatusBooked, l.Status)
	job, err := w.client.JobGet(ctx, followUp.Job.ID)
	require.NoError(t, err)
	require.Equal(t, "cancelled", string(job.State), "the pending follow-up is cancelled")

	texts := w.bookingTexts(t, w.leadID)
	require.Len(t, texts, 1)
	body := texts[lead.BookingTextStep(first.ID, "")]
	loc, err := time.LoadLocation(w.tenant.TimeZone)
	require.NoError(t, err)
	require.Contains(t, body, "you are booked for "+lead.FormatSlot(slot, loc))
	require.Contains(t, body, "https://book.test/book/"+w.token, "the confirmation links to the page, to move or cancel")
	require.Equal(t, 1, w.count(t, `SELECT count(*) FROM messages WHERE tenant_id = $1 AND lead_id = $2 AND channel = 'email'
		AND to_address = $3 AND subject LIKE 'Online booking: Ann Lee, %' AND status = 'sent'`, w.tenant.ID, w.leadID, w.tenant.NotifyEmail),
		"one notice to the shop")

	offer, err := w.desk.Offer(ctx, w.token)
	require.NoError(t, err)
	require.NotNil(t, offer.Current)
	require.Equal(t, first.ID, offer.Current.ID)
	for _, s := range offer.Slots {
		require.False(t, s.Start.Equal(slot.Start), "the booked slot (capacity 1) is no longer offered")
	}
}

// TestBookingLostAnswerFoundByRef: the CRM books but its answer is lost;
// the retry finds the appointment by customer, start and our marker, and
// creates none.
func TestBookingLostAnswerFoundByRef(t *testing.T) {
	t.Parallel()
	w := newBookingWorld(t)
	w.sandbox.ShopMonkey.AddFault(fake.Fault{Status: http.StatusBadGateway, After: true, Count: 1,
		Method: http.MethodPost, Paths: []string{"/v3/appointment"}})
	first, slot := w.book(t, w.token, 0, "k")
	b := w.waitBooking(t, w.token, first.ID)
	require.Equal(t, lead.BookingBooked, b.State, b.Reason)
	require.Equal(t, 1, w.sandbox.ShopMonkey.AppointmentsCreated(w.ref.CustomerID, slot.Start), "booked once, not again")
}

// TestBookingSlotTakenInTheCRM: a staff appointment fills the slot after
// the page was shown: the request is refused at the desk (ErrSlotTaken);
// one that fills between the request and the job ends taken.
func TestBookingSlotTakenInTheCRM(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newBookingWorld(t)
	offer, err := w.desk.Offer(ctx, w.token)
	require.NoError(t, err)
	slot := offer.Slots[0]
	_, err = w.sandbox.ShopMonkey.AddAppointment(w.tenant.CRMLocationID, slot.Start, slot.End)
	require.NoError(t, err)
	_, err = w.desk.Request(ctx, w.token, lead.BookingRequest{Action: lead.BookingBook, Key: "k", Start: slot.Start})
	require.ErrorIs(t, err, lead.ErrSlotTaken)
	require.Zero(t, w.count(t, `SELECT count(*) FROM bookings WHERE tenant_id = $1`, w.tenant.ID), "nothing recorded")
	again, err := w.desk.Offer(ctx, w.token)
	require.NoError(t, err)
	for _, s := range again.Slots {
		require.False(t, s.Start.Equal(slot.Start), "the other times offered after a taken one leave it out")
	}

	// Filled between the request and its job: the job finds it full.
	require.NoError(t, w.client.Stop(ctx))
	next := offer.Slots[1]
	b, err := w.desk.Request(ctx, w.token, lead.BookingRequest{Action: lead.BookingBook, Key: "k2", Start: next.Start})
	require.NoError(t, err)
	_, err = w.sandbox.ShopMonkey.AddAppointment(w.tenant.CRMLocationID, next.Start, next.End)
	require.NoError(t, err)
	w.startClient(t, jobs.ClientOpts{})
	got := w.waitBooking(t, w.token, b.ID)
	require.Equal(t, lead.BookingTaken, got.State)
	require.Equal(t, "That time was just taken.", got.Reason)
	require.Zero(t, w.sandbox.ShopMonkey.AppointmentsCreated(w.ref.CustomerID, next.Start))

	// The link expiring now still shows the taken booking, for the hour
	// after it, and offers the other times.
	_, err = w.pool.Exec(ctx, `UPDATE booking_links SET expires_at = now() - interval '1 minute' WHERE lead_id = $1`, w.leadID)
	require.NoError(t, err)
	offer, err = w.desk.Offer(ctx, w.token)
	require.NoError(t, err)
	require.Equal(t, lead.BookingTaken, offer.Current.State)
	require.NotEmpty(t, offer.Slots)
	_, err = w.pool.Exec(ctx, `UPDATE bookings SET updated_at = now() - interval '2 hours' WHERE id = $1`, b.ID)
	require.NoError(t, err)
	_, err = w.desk.Offer(ctx, w.token)
	var closed *lead.BookingLinkClosedError
	require.ErrorAs(t, err, &closed, "an hour later the expired link is closed")
}

// TestBookingLinkClosed: an unknown token names no shop; an expired link,
// a shop with booking off and an opted-out lead are closed, naming the
// shop and how to reach it.
func TestBookingLinkClosed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newBookingWorld(t, func(tn *lead.Tenant) { tn.ShopPhone = "+15125550199" })
	_, err := w.desk.Offer(ctx, "abcdefghijklmnopqrstuvwxyz234567")
	require.ErrorIs(t, err, lead.ErrBookingLinkUnknown)

	_, expiredLead := w.addLead(t, 2)
	expired := w.linkFor(t, expiredLead, -time.Minute)
	_, err = w.desk.Offer(ctx, expired)
	var closed *lead.BookingLinkClosedError
	require.ErrorAs(t, err, &closed)
	require.Equal(t, "bk", closed.Shop.Name)
	require.Equal(t, "+15125550199", closed.ShopPhone)
	require.Contains(t, closed.Reason, "expired")
	_, err = w.desk.Request(ctx, expired, lead.BookingRequest{Action: lead.BookingBook, Key: "k", Start: time.Now().Add(48 * time.Hour)})
	require.ErrorAs(t, err, &closed, "an expired link books nothing")

	// A link that expires while its booking is being made still shows
	// what became of it.
	_, late := w.addLead(t, 3)
	lateToken := w.linkFor(t, late, time.Hour)
	made, _ := w.book(t, lateToken, 0, "late")
	_, err = w.pool.Exec(ctx, `UPDATE booking_links SET expires_at = now() - interval '1 minute' WHERE lead_id = $1`, late)
	require.NoError(t, err)
	require.Equal(t, lead.BookingBooked, w.waitBooking(t, lateToken, made.ID).State)
	offer, err := w.desk.Offer(ctx, lateToken)
	require.NoError(t, err, "the booking just made is shown, and may be moved or cancelled until it starts")
	require.Equal(t, made.ID, offer.Current.ID)

	require.NoError(t, w.store.SetLeadStatus(ctx, w.tenant.ID, w.leadID, lead.StatusOptedOut))
	_, err = w.desk.Offer(ctx, w.token)
	require.ErrorAs(t, err, &closed)
	require.Contains(t, closed.Reason, "opted out")
}

// TestBookingKeepsTenantsApart: a token resolves to its own tenant and
// lead only; a booking id of another tenant's lead is unknown through it.
func TestBookingKeepsTenantsApart(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newBookingWorld(t)
	other := w.addShop(t, "other")
	fixture.BookingOn(&other)
	other, err := w.store.UpdateTenant(ctx, other, nil)
	require.NoError(t, err)
	ref, err := w.sandbox.ShopMonkey.AddLead(other.CRMLocationID, fakeshopmonkey.LeadSpec{})
	require.NoError(t, err)
	otherLead, _, err := w.store.UpsertLead(ctx, other.ID, fixture.Lead(ref.ExternalID, func(l *lead.Lead) {
		l.CustomerExternalID, l.FirstName, l.Summary = ref.CustomerID, "Bob", "Oil change"
	}), false)
	require.NoError(t, err)
	otherToken := w.keys.LinkToken(other.ID, otherLead)
	require.NoError(t, w.store.TouchBookingLink(ctx, other.ID, otherLead, jobs.BookingTokenHash(otherToken), time.Now().Add(time.Hour)))

	mine, err := w.desk.Offer(ctx, w.token)
	require.NoError(t, err)
	require.Equal(t, "bk", mine.Shop.Name)
	require.Equal(t, "Ann", mine.FirstName)
	theirs, err := w.desk.Offer(ctx, otherToken)
	require.NoError(t, err)
	require.Equal(t, "other", theirs.Shop.Name)
	require.Equal(t, "Bob", theirs.FirstName)

	booked, _ := w.book(t, otherToken, 0, "k")
	_, err = w.desk.Booking(ctx, w.token, booked.ID)
	require.ErrorIs(t, err, lead.ErrBookingLinkUnknown, "another tenant's booking through my link")
	_, err = w.desk.Booking(ctx, otherToken, booked.ID)
	require.NoError(t, err)
	require.NotEqual(t, w.token, otherToken)
	require.False(t, strings.EqualFold(w.token, otherToken))
}

// TestBookingChangeOnShopMonkeyAsksTheShop: ShopMonkey documents no way to
// move or cancel an appointment through its API, so a move is a notice to
// the shop naming it, and the customer is told the shop was asked; the
// appointment in the CRM is left as it was.
func TestBookingChangeOnShopMonkeyAsksTheShop(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newBookingWorld(t)
	booked, slot := w.book(t, w.token, 0, "k")
	require.Equal(t, lead.BookingBooked, w.waitBooking(t, w.token, booked.ID).State)

	offer, err := w.desk.Offer(ctx, w.token)
	require.NoError(t, err)
	target := offer.Slots[2]
	moved, err := w.desk.Request(ctx, w.token, lead.BookingRequest{Action: lead.BookingMove, Key: "move-1", Start: target.Start})
	require.NoError(t, err)
	require.Equal(t, lead.ChangeRequested, moved.ChangeState)
	again, err := w.desk.Request(ctx, w.token, lead.BookingRequest{Action: lead.BookingMove, Key: "move-1", Start: target.Start})
	require.NoError(t, err, "a double tap of the move")
	require.Equal(t, moved.ID, again.ID)

	var got lead.Booking
	require.Eventually(t, func() bool {
		got, err = w.desk.Booking(ctx, w.token, booked.ID)
		require.NoError(t, err)
		return got.ChangeState != lead.ChangeRequested
	}, 30*time.Second, 20*time.Millisecond)
	require.Equal(t, lead.ChangeAskedShop, got.ChangeState)
	require.True(t, got.Start.Equal(slot.Start), "the booking keeps its time until the shop moves it")
	w.settled(t, "change_booking", "send_sms", "notify_shop", "send_email")

	loc, err := time.LoadLocation(w.tenant.TimeZone)
	require.NoError(t, err)
	texts := w.bookingTexts(t, w.leadID)
	require.Len(t, texts, 2, "the booking's confirmation and the move's")
	require.Contains(t, texts[lead.BookingTextStep(booked.ID, "move-1")], "we asked the shop to move your appointment ("+lead.FormatSlot(slot, loc)+") to "+lead.FormatSlot(target, loc))
	require.Equal(t, 1, w.count(t, `SELECT count(*) FROM messages WHERE tenant_id = $1 AND lead_id = $2 AND channel = 'email'
		AND subject LIKE 'Please move: Ann Lee to %' AND body LIKE '%please move it there%' AND status = 'sent'`, w.tenant.ID, w.leadID))
	require.Equal(t, 1, w.sandbox.ShopMonkey.AppointmentsCreated(w.ref.CustomerID, slot.Start))
	require.Zero(t, w.sandbox.ShopMonkey.AppointmentsCreated(w.ref.CustomerID, target.Start), "nothing booked at the target")
}

// TestBookingTwoReplicasOneAppointment: the job's run is rescued and run
// again by a second replica while the first one's CRM call is still in
// flight (the CRM is slow): the second waits for the claim's call to have
// had its time, then finds the appointment by our marker, and the CRM gets
// one appointment. (CRMReconcileAfter is 3s here, past the slow call's
// 1.5s; the worker sets it past the CRM client's timeout.)
func TestBookingTwoReplicasOneAppointment(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newBookingWorld(t)
	w.deps.CRMReconcileAfter = 3 * time.Second
	second := w.startClient(t, jobs.ClientOpts{})
	w.sandbox.ShopMonkey.AddFault(fake.Fault{Latency: 1500 * time.Millisecond, Count: 1, Method: http.MethodPost, Paths: []string{"/v3/appointment"}})
	booked, slot := w.book(t, w.token, 0, "k")

	// Wait for the claim, then hand the running job back as River's
	// rescuer does with a replica it thinks died.
	require.Eventually(t, func() bool {
		return w.count(t, `SELECT count(*) FROM bookings WHERE id = $1 AND state = 'booking'`, booked.ID) == 1
	}, 10*time.Second, 5*time.Millisecond)
	var rescued int
	require.NoError(t, w.pool.QueryRow(ctx, `UPDATE river_job SET state = 'available', scheduled_at = now(), attempted_by = attempted_by || '{rescued}'
		WHERE kind = 'book_appointment' AND args->>'booking_id' = $1 AND state = 'running' RETURNING 1`, booked.ID.String()).Scan(&rescued))

	b := w.waitBooking(t, w.token, booked.ID)
	require.Equal(t, lead.BookingBooked, b.State, b.Reason)
	w.settled(t, "book_appointment", "send_sms", "notify_shop", "send_email")
	// Stopping waits for every run still going: the slow call has landed.
	require.NoError(t, w.client.Stop(ctx))
	require.NoError(t, second.Stop(ctx))
	require.Equal(t, 1, w.sandbox.ShopMonkey.AppointmentsCreated(w.ref.CustomerID, slot.Start), "one appointment")
	require.Len(t, w.bookingTexts(t, w.leadID), 1, "one confirmation")
}

// waitChange waits until the booking's change is no longer requested.
func (w *bookingWorld) waitChange(t *testing.T, id uuid.UUID) lead.Booking {
	t.Helper()
	var b lead.Booking
	require.Eventually(t, func() bool {
		var err error
		b, err = w.desk.Booking(context.Background(), w.token, id)
		require.NoError(t, err)
		return b.ChangeState != lead.ChangeRequested
	}, 30*time.Second, 20*time.Millisecond)
	return b
}

// TestBookingMoveAndCancelOnTekmetric: Tekmetric's API moves (PATCH) and
// cancels (DELETE) the appointment itself; the booking follows, the
// customer is texted each change, and the calendar shows it.
func TestBookingMoveAndCancelOnTekmetric(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newTekmetricBookingWorld(t)
	loc, err := time.LoadLocation(w.tenant.TimeZone)
	require.NoError(t, err)
	booked, slot := w.book(t, w.token, 0, "k")
	b := w.waitBooking(t, w.token, booked.ID)
	require.Equal(t, lead.BookingBooked, b.State, b.Reason)
	require.Equal(t, 1, w.sandbox.Tekmetric.AppointmentsCreated(w.ref.CustomerID, slot.Start))

	offer, err := w.desk.Offer(ctx, w.token)
	require.NoError(t, err)
	target := offer.Slots[3]
	_, err = w.desk.Request(ctx, w.token, lead.BookingRequest{Action: lead.BookingMove, Key: "move-1", Start: target.Start})
	require.NoError(t, err)
	moved := w.waitChange(t, booked.ID)
	require.Equal(t, lead.ChangeDone, moved.ChangeState, moved.ChangeReason)
	require.True(t, moved.Start.Equal(target.Start), "the booking has the new time")
	a, err := w.deps.CRM.Adapter(w.tenant, lead.Secret("tm_secret_bk"))
	require.NoError(t, err)
	listed, err := a.ListAppointments(ctx, slot.Start.Add(-time.Hour), target.End.Add(time.Hour))
	require.NoError(t, err)
	require.Len(t, listed, 1)
	require.Equal(t, b.CRMAppointmentID, listed[0].ID)
	require.True(t, listed[0].Start.Equal(target.Start), "the CRM's appointment is moved, not booked again")
	// The move's text and notice go before the cancel is asked: a change
	// made before the last one's messages went supersedes them (only the
	// latest is said).
	w.settled(t, "change_booking", "send_sms", "notify_shop", "send_email")

	_, err = w.desk.Request(ctx, w.token, lead.BookingRequest{Action: lead.BookingCancel, Key: "cancel-1"})
	require.NoError(t, err)
	cancelled := w.waitChange(t, booked.ID)
	require.Equal(t, lead.ChangeDone, cancelled.ChangeState, cancelled.ChangeReason)
	require.Equal(t, lead.BookingCancelled, cancelled.State)
	listed, err = a.ListAppointments(ctx, slot.Start.Add(-time.Hour), target.End.Add(time.Hour))
	require.NoError(t, err)
	require.Empty(t, listed, "cancelled in the CRM")
	_, err = w.desk.Request(ctx, w.token, lead.BookingRequest{Action: lead.BookingCancel, Key: "cancel-2"})
	var invalid *lead.ValidationError
	require.ErrorAs(t, err, &invalid, "nothing booked to cancel any more")
	require.Equal(t, "action", invalid.Field)

	w.settled(t, "change_booking", "send_sms", "notify_shop", "send_email")
	texts := w.bookingTexts(t, w.leadID)
	require.Len(t, texts, 3)
	require.Contains(t, texts[lead.BookingTextStep(booked.ID, "move-1")], "your appointment is moved to "+lead.FormatSlot(target, loc))
	require.Contains(t, texts[lead.BookingTextStep(booked.ID, "cancel-1")], "your appointment "+lead.FormatSlot(target, loc)+" is cancelled")
	require.Contains(t, texts[lead.BookingTextStep(booked.ID, "cancel-1")], "To book again: https://book.test/book/")
}

// TestBookingConfirmationWaitsForTheWindow: a booking made while the shop
// may not text (its window is closed now) is booked at once and shown on
// the page, and its confirmation text waits for the window to open.
func TestBookingConfirmationWaitsForTheWindow(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newBookingWorld(t, func(tn *lead.Tenant) {
		loc, err := time.LoadLocation(tn.TimeZone)
		require.NoError(t, err)
		now := time.Now().In(loc)
		// Open for one hour starting two hours from now: closed now.
		start := lead.TimeOfDay((now.Hour()*60 + now.Minute() + 120) % (24 * 60))
		end := lead.TimeOfDay((int(start) + 60) % (24 * 60))
		if end < start {
			start, end = 60, 120 // two hours from now wraps past midnight: 01:00-02:00 is closed now
			if now.Hour() == 1 {
				start, end = 180, 240
			}
		}
		tn.QuietHours, tn.QuietRule = lead.QuietHours{Start: start, End: end}, lead.QuietRuleNone
	})
	booked, _ := w.book(t, w.token, 0, "k")
	require.Equal(t, lead.BookingBooked, w.waitBooking(t, w.token, booked.ID).State)
	var state string
	require.Eventually(t, func() bool {
		err := w.pool.QueryRow(ctx, `SELECT state FROM river_job WHERE kind = 'send_sms' AND args->>'step' = $1`,
			lead.BookingTextStep(booked.ID, "")).Scan(&state)
		require.NoError(t, err)
		return state == "scheduled"
	}, 30*time.Second, 20*time.Millisecond, "the confirmation is snoozed until the window opens")
	require.Empty(t, w.bookingTexts(t, w.leadID), "no text outside the window")
}

// TestBookingOfferReusesTheCalendar: offers of one shop within seconds (the
// status page reloading while a booking is made) read its CRM's calendar
// once, not once per page.
func TestBookingOfferReusesTheCalendar(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newBookingWorld(t)
	_, other := w.addLead(t, 2)
	otherToken := w.linkFor(t, other, time.Hour)
	listings := func() int {
		n := 0
		for _, r := range w.sandbox.ShopMonkey.Requests() {
			if r.Method == http.MethodGet && r.Path == "/v3/appointment" {
				n++
			}
		}
		return n
	}
	_, err := w.desk.Offer(ctx, w.token)
	require.NoError(t, err)
	first := listings()
	require.Positive(t, first)
	for range 5 {
		_, err = w.desk.Offer(ctx, w.token)
		require.NoError(t, err)
		_, err = w.desk.Offer(ctx, otherToken)
		require.NoError(t, err)
	}
	require.Equal(t, first, listings(), "ten more offers of the shop, no more calendar reads")
}
