package jobs

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"

	"github.com/leadorch/lead-orchestrator/internal/crm"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// bookingGrace is how long after its last booking changed an expired
// link still opens (resolve).
const bookingGrace = time.Hour

// maxBookingKeyLen bounds a booking form's one-time key.
const maxBookingKeyLen = 64

// BookingDesk is what the booking page (/book/{token}) asks: the offer of
// one link, a customer's choice, and where a booking stands. Every call
// resolves the token to one tenant and one lead first (through its hash,
// the only lookup made before a tenant is known) and reads nothing of any
// other: the page cannot show another lead's data, and Postgres' row
// security keeps every later query in that tenant.
//
// A choice is recorded with its job in one transaction (Request), so a
// crash loses neither; the job (book_appointment, change_booking) makes
// the CRM call at most once.
type BookingDesk struct {
	deps   *Deps
	client *river.Client[pgx.Tx]

	// calendars are each tenant's last reading of its CRM's calendar for
	// an offer, reused for offerCalendarTTL: the status page reloads every
	// two seconds while a booking is made, and a shop's CRM budget is not
	// the page's to spend. A choice is always checked against a fresh
	// reading (slotCalendar), and its job checks again.
	mu        sync.Mutex
	calendars map[uuid.UUID]cachedCalendar
}

// offerCalendarTTL is how long an offer's reading of the calendar is
// reused.
const offerCalendarTTL = 15 * time.Second

// cachedCalendar is a reading of [from, to).
type cachedCalendar struct {
	from, to time.Time
	cal      calendarReading
}

// NewBookingDesk returns the desk of the worker's deps, inserting its jobs
// through client.
func NewBookingDesk(d *Deps, client *river.Client[pgx.Tx]) *BookingDesk {
	return &BookingDesk{deps: d, client: client, calendars: map[uuid.UUID]cachedCalendar{}}
}

// bookingLead is what a token resolves to.
type bookingLead struct {
	tenant lead.Tenant
	lead   lead.Lead
	// current is the lead's newest booking (nil: none).
	current *store.BookingRecord
}

// resolve finds the token's tenant and lead, or says why the link does
// not book: unknown (ErrBookingLinkUnknown), or closed (expired, booking
// switched off, the shop disabled, the lead opted out or closed). An
// expired link still works while the lead has an appointment to come: it
// may be moved or cancelled until it starts. forRead resolves a closed
// link too (the status page of a booking just made).
func (k *BookingDesk) resolve(ctx context.Context, token string, forRead bool) (bookingLead, error) {
	if token == "" || len(token) > 64 {
		return bookingLead{}, lead.ErrBookingLinkUnknown
	}
	st := store.New(k.deps.Pool)
	owner, err := st.ResolveBookingLink(ctx, BookingTokenHash(token))
	if err != nil {
		if isNotFound(err) {
			return bookingLead{}, lead.ErrBookingLinkUnknown
		}
		return bookingLead{}, err
	}
	t, err := st.GetTenant(ctx, owner.TenantID)
	if err != nil {
		if isNotFound(err) {
			return bookingLead{}, lead.ErrBookingLinkUnknown
		}
		return bookingLead{}, err
	}
	l, err := st.GetLead(ctx, t.ID, owner.LeadID)
	if err != nil {
		if isNotFound(err) {
			return bookingLead{}, lead.ErrBookingLinkUnknown
		}
		return bookingLead{}, err
	}
	bl := bookingLead{tenant: t, lead: l}
	bookings, err := st.LeadBookings(ctx, t.ID, l.ID)
	if err != nil {
		return bookingLead{}, err
	}
	if len(bookings) > 0 {
		bl.current = &bookings[0]
	}
	if forRead {
		return bl, nil
	}
	now := k.deps.now()
	closed := func(reason string) error {
		return &lead.BookingLinkClosedError{Shop: lead.Shop{Name: t.Name, TimeZone: t.TimeZone}, ShopPhone: t.ShopPhone, ShopEmail: t.EmailFrom, Reason: reason}
	}
	// A link stays open while its lead has an appointment to come (to
	// move or cancel it), and for an hour after its last booking moved
	// on: a customer whose time was taken as the link expired still sees
	// what happened and may choose again.
	upcoming := bl.current != nil && ((bl.current.State == lead.BookingBooked && bl.current.Start.After(now)) ||
		bl.current.UpdatedAt.After(now.Add(-bookingGrace)))
	switch {
	case !t.Enabled:
		return bl, closed("the shop is disabled")
	case !t.Booking.Enabled:
		return bl, closed("the shop has online booking switched off")
	case l.Status == lead.StatusOptedOut:
		return bl, closed("the customer opted out")
	case l.Status == lead.StatusClosed:
		return bl, closed("the lead is closed")
	case !now.Before(owner.ExpiresAt) && !upcoming:
		return bl, closed("the link expired at " + owner.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return bl, nil
}

// Offer is what the page of token shows: the shop, the request, the open
// slots of the shop's horizon and the lead's newest booking.
func (k *BookingDesk) Offer(ctx context.Context, token string) (lead.BookingOffer, error) {
	bl, err := k.resolve(ctx, token, false)
	if err != nil {
		return lead.BookingOffer{}, err
	}
	return k.offer(ctx, bl)
}

// offer lists the CRM's calendar for the horizon and cuts it into the
// open slots.
func (k *BookingDesk) offer(ctx context.Context, bl bookingLead) (lead.BookingOffer, error) {
	t, l := bl.tenant, bl.lead
	o := lead.BookingOffer{
		Shop: lead.Shop{Name: t.Name, TimeZone: t.TimeZone}, ShopPhone: t.ShopPhone, ShopEmail: t.EmailFrom,
		FirstName: l.FirstName, Summary: l.Summary, Vehicle: l.Vehicle,
	}
	if bl.current != nil {
		b := bl.current.Booking
		o.Current = &b
	}
	loc, err := shopLocation(t)
	if err != nil {
		return lead.BookingOffer{}, err
	}
	a, err := k.deps.adapter(t)
	if err != nil {
		return lead.BookingOffer{}, err
	}
	now := k.deps.now()
	settings := t.Booking.WithDefaults()
	// One day more than the horizon covers the last day's slots whatever
	// the zone's offset.
	to := now.Add(time.Duration(settings.DaysAhead+1) * 24 * time.Hour)
	cal, err := k.calendar(ctx, t, a, now, to)
	if err != nil {
		return lead.BookingOffer{}, fmt.Errorf("error reading the calendar of tenant %s: %w", t.Name, err)
	}
	ours, err := store.New(k.deps.Pool).LiveBookingTimes(ctx, t.ID, now, to)
	if err != nil {
		return lead.BookingOffer{}, err
	}
	// The lead's own appointment counts too: its slot is not offered to
	// move to.
	o.Slots = settings.OpenSlots(loc, now, mergeBusy(cal, ours, nil))
	return o, nil
}

// calendar is the CRM's calendar of [from, to) for an offer: the tenant's
// last reading when it is younger than offerCalendarTTL and covers the
// window, else a new one.
func (k *BookingDesk) calendar(ctx context.Context, t lead.Tenant, a crm.Adapter, from, to time.Time) (calendarReading, error) {
	k.mu.Lock()
	c, ok := k.calendars[t.ID]
	k.mu.Unlock()
	if ok && time.Since(c.cal.at) < offerCalendarTTL && !c.from.After(from) && !c.to.Before(to) {
		return c.cal, nil
	}
	cal := calendarReading{at: time.Now()}
	var err error
	// A day more than asked, so that readings a little later still cover
	// their windows.
	if cal.listed, err = a.ListAppointments(ctx, from, to.Add(24*time.Hour)); err != nil {
		return calendarReading{}, err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	for id, old := range k.calendars {
		if time.Since(old.cal.at) >= offerCalendarTTL {
			delete(k.calendars, id)
		}
	}
	k.calendars[t.ID] = cachedCalendar{from: from, to: to.Add(24 * time.Hour), cal: cal}
	return cal, nil
}

// Booking reads one booking of the link's lead.
func (k *BookingDesk) Booking(ctx context.Context, token string, bookingID uuid.UUID) (lead.Booking, error) {
	bl, err := k.resolve(ctx, token, true)
	if err != nil {
		return lead.Booking{}, err
	}
	b, err := store.New(k.deps.Pool).GetBooking(ctx, bl.tenant.ID, bookingID)
	if isNotFound(err) || (err == nil && b.LeadID != bl.lead.ID) {
		return lead.Booking{}, lead.ErrBookingLinkUnknown
	}
	if err != nil {
		return lead.Booking{}, err
	}
	return b.Booking, nil
}

// Request records the customer's choice with its job, in one transaction.
func (k *BookingDesk) Request(ctx context.Context, token string, req lead.BookingRequest) (lead.Booking, error) {
	if req.Key == "" || len(req.Key) > maxBookingKeyLen {
		return lead.Booking{}, &lead.ValidationError{Field: "key", Reason: fmt.Sprintf("must be the form's key (1 to %d characters)", maxBookingKeyLen)}
	}
	bl, err := k.resolve(ctx, token, false)
	if err != nil {
		return lead.Booking{}, err
	}
	var b lead.Booking
	switch req.Action {
	case lead.BookingBook:
		b, err = k.book(ctx, bl, req)
	case lead.BookingMove, lead.BookingCancel:
		b, err = k.change(ctx, bl, req)
	default:
		return lead.Booking{}, &lead.ValidationError{Field: "action", Reason: fmt.Sprintf("%q is not book, move or cancel", req.Action)}
	}
	if errors.Is(err, lead.ErrSlotTaken) {
		// The offer the customer chose from was out of date: the next
		// one (the page's "other times") reads the calendar again.
		k.mu.Lock()
		delete(k.calendars, bl.tenant.ID)
		k.mu.Unlock()
	}
	return b, err
}

// book records a booking of req.Start and its book_appointment job. The
// slot is checked under its lock (store.LockBookingSlot) against the CRM's
// calendar and our own live bookings, so two customers asking for its last
// place at once are ordered and the second is told it is taken. A repeat
// (the same key, or a second tab while a booking is live) returns the
// booking it repeats and inserts nothing.
func (k *BookingDesk) book(ctx context.Context, bl bookingLead, req lead.BookingRequest) (lead.Booking, error) {
	t := bl.tenant
	// A repeat is answered before the slot is checked: its own first tap
	// fills the slot.
	prev, found, err := store.New(k.deps.Pool).RepeatedBooking(ctx, t.ID, bl.lead.ID, req.Key)
	if err != nil || found {
		return prev.Booking, err
	}
	slot, busyCRM, err := k.slotCalendar(ctx, bl, req.Start, nil)
	if err != nil {
		return lead.Booking{}, err
	}
	var out store.BookingRecord
	err = k.deps.inTx(ctx, func(tx pgx.Tx) error {
		st := store.New(tx)
		// Under the slot's lock, so that a double tap waits for its first
		// tap and finds it, rather than finding the slot taken by it.
		if err := store.LockBookingSlot(ctx, tx, t.ID, req.Start); err != nil {
			return err
		}
		prev, found, err := st.RepeatedBooking(ctx, t.ID, bl.lead.ID, req.Key)
		if err != nil || found {
			out = prev
			return err
		}
		if err := k.checkSlot(ctx, st, bl, req.Start, busyCRM, nil); err != nil {
			return err
		}
		b, created, err := st.CreateBooking(ctx, t.ID, bl.lead.ID, req.Key, slot.Start, slot.End)
		if err != nil {
			return err
		}
		out = b
		if !created {
			return nil
		}
		_, err = k.client.InsertTx(ctx, tx,
			BookAppointmentArgs{TenantID: t.ID, LeadID: bl.lead.ID, BookingID: b.ID}, nil)
		return err
	})
	if err != nil {
		return lead.Booking{}, err
	}
	return out.Booking, nil
}

// slotCalendar checks start is one of the shop's slots at all (grid, lead
// time, horizon, against the calendar as it is) and returns it with what
// the CRM lists around it, read before any lock is taken: the CRM call is
// slow, and checkSlot counts our own bookings again under the lock.
func (k *BookingDesk) slotCalendar(ctx context.Context, bl bookingLead, start time.Time, self *store.BookingRecord) (lead.Slot, calendarReading, error) {
	t := bl.tenant
	if start.IsZero() {
		return lead.Slot{}, calendarReading{}, &lead.ValidationError{Field: "start", Reason: "choose a time"}
	}
	loc, err := shopLocation(t)
	if err != nil {
		return lead.Slot{}, calendarReading{}, err
	}
	a, err := k.deps.adapter(t)
	if err != nil {
		return lead.Slot{}, calendarReading{}, err
	}
	settings := t.Booking.WithDefaults()
	from, to := start.Add(-24*time.Hour), start.Add(24*time.Hour)
	cal := calendarReading{at: time.Now()}
	if cal.listed, err = a.ListAppointments(ctx, from, to); err != nil {
		return lead.Slot{}, calendarReading{}, fmt.Errorf("error reading the calendar of tenant %s: %w", t.Name, err)
	}
	ours, err := store.New(k.deps.Pool).LiveBookingTimes(ctx, t.ID, from, to)
	if err != nil {
		return lead.Slot{}, calendarReading{}, err
	}
	slot, err := settings.SlotAt(loc, k.deps.now(), start, mergeBusy(cal, ours, self))
	if err != nil {
		return lead.Slot{}, calendarReading{}, err
	}
	return slot, cal, nil
}

// checkSlot checks the slot at start again under its lock, against what
// the CRM listed and our live bookings as committed now: a booking another
// customer made since slotCalendar read them counts.
func (k *BookingDesk) checkSlot(ctx context.Context, st *store.Store, bl bookingLead, start time.Time, cal calendarReading, self *store.BookingRecord) error {
	t := bl.tenant
	loc, err := shopLocation(t)
	if err != nil {
		return err
	}
	ours, err := st.LiveBookingTimes(ctx, t.ID, start.Add(-24*time.Hour), start.Add(24*time.Hour))
	if err != nil {
		return err
	}
	_, err = t.Booking.WithDefaults().SlotAt(loc, k.deps.now(), start, mergeBusy(cal, ours, self))
	return err
}

// change records a move or cancel of the lead's booked appointment and its
// change_booking job.
func (k *BookingDesk) change(ctx context.Context, bl bookingLead, req lead.BookingRequest) (lead.Booking, error) {
	t, cur := bl.tenant, bl.current
	if cur != nil && cur.ChangeKey == req.Key {
		return cur.Booking, nil // a double tap of this change
	}
	now := k.deps.now()
	if cur == nil || cur.State != lead.BookingBooked {
		return lead.Booking{}, &lead.ValidationError{Field: "action", Reason: "there is no booked appointment to " + string(req.Action)}
	}
	if !cur.Start.After(now) {
		return lead.Booking{}, &lead.ValidationError{Field: "action", Reason: "the appointment has started; call the shop to change it"}
	}
	var slot lead.Slot
	var busyCRM calendarReading
	if req.Action == lead.BookingMove {
		var err error
		if slot, busyCRM, err = k.slotCalendar(ctx, bl, req.Start, cur); err != nil {
			return lead.Booking{}, err
		}
	}
	var out store.BookingRecord
	err := k.deps.inTx(ctx, func(tx pgx.Tx) error {
		st := store.New(tx)
		if req.Action == lead.BookingMove {
			if err := store.LockBookingSlot(ctx, tx, t.ID, req.Start); err != nil {
				return err
			}
		}
		// Under the booking's lock: a double tap waits for its first tap
		// and finds it.
		locked, err := st.LockBooking(ctx, t.ID, cur.ID)
		if err != nil {
			return err
		}
		if locked.ChangeKey == req.Key {
			out = locked
			return nil
		}
		if req.Action == lead.BookingMove {
			if err := k.checkSlot(ctx, st, bl, req.Start, busyCRM, cur); err != nil {
				return err
			}
		}
		b, changed, err := st.RequestBookingChange(ctx, t.ID, cur.ID, req.Key, req.Action, slot.Start, slot.End)
		if err != nil {
			return err
		}
		out = b
		if !changed {
			return nil
		}
		_, err = k.client.InsertTx(ctx, tx,
			ChangeBookingArgs{TenantID: t.ID, LeadID: bl.lead.ID, BookingID: b.ID, ChangeKey: req.Key}, nil)
		return err
	})
	if err != nil {
		return lead.Booking{}, err
	}
	return out.Booking, nil
}
