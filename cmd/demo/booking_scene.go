package main

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/sandbox"
)

// The demo's booking: a customer whose first text carried a booking link
// opens it, books the first open time, and the console follows the
// booking from the page to the CRM, the lead and the confirmation text.
const bookAfter = 65 * time.Second

// bookingLink finds the booking link in a text's body.
var bookingLink = regexp.MustCompile(`https?://\S+/book/[a-z2-7]+`)

// demoBookingHours are the demo shops' booking settings: every day, a
// wide window, so a run at any hour offers times (from two hours on).
func demoBookingHours() lead.BookingSettings {
	hours := map[string]string{}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		hours[d] = "07:00-21:00"
	}
	return lead.BookingSettings{Enabled: true, Hours: hours, SlotMinutes: 60, Capacity: 2}
}

// bookingScene plays and reports the online booking, each step as it
// happens.
type bookingScene struct {
	pool    *pgxpool.Pool
	tenants []lead.Tenant
	start   time.Time
	// skip are the leads other scenes play (they replied, so they are no
	// longer offered a booking).
	skip func() []uuid.UUID

	stage    int // 0 wait, 1 booking on the page, 2 booked on the page, 3 confirmed (done)
	lead     uuid.UUID
	name     string
	bookedAt time.Time
	lines    chan string
	result   chan error
}

func (s *bookingScene) step(ctx context.Context) []string {
	out := s.drain()
	switch s.stage {
	case 0:
		if time.Since(s.start) < bookAfter {
			return out
		}
		return append(out, s.open(ctx)...)
	case 1:
		select {
		case err := <-s.result:
			out = append(out, s.drain()...)
			if err != nil {
				s.stage = 3
				return append(out, "booking scene stopped: "+err.Error())
			}
			s.stage, s.bookedAt = 2, time.Now()
		default:
			return out
		}
		fallthrough
	case 2:
		return append(out, s.confirmed(ctx)...)
	}
	return out
}

// open picks a lead whose first text carried a link and starts its
// customer on the page.
func (s *bookingScene) open(ctx context.Context) []string {
	ids := make([]uuid.UUID, len(s.tenants))
	for i, t := range s.tenants {
		ids[i] = t.ID
	}
	var body, shop string
	err := s.pool.QueryRow(ctx, `SELECT l.id, l.first_name || ' ' || l.last_name, t.name, m.body
		FROM leads l JOIN tenants t ON t.id = l.tenant_id
		JOIN messages m ON m.tenant_id = l.tenant_id AND m.lead_id = l.id
		WHERE l.tenant_id = ANY($1) AND l.status = 'contacted' AND NOT l.id = ANY($2)
			AND m.channel = 'sms' AND m.status IN ('sent', 'delivered') AND m.body LIKE '%/book/%'
		ORDER BY l.created_at DESC LIMIT 1`, ids, s.skip()).Scan(&s.lead, &s.name, &shop, &body)
	if errors.Is(err, pgx.ErrNoRows) {
		if time.Since(s.start) > bookAfter+time.Minute {
			s.stage = 3
			return []string{"booking scene stopped: no text carried a booking link; see the worker logs"}
		}
		return nil
	}
	if err != nil {
		return []string{"error picking a lead to book: " + err.Error()}
	}
	link := bookingLink.FindString(body)
	if link == "" {
		s.stage = 3
		return []string{"booking scene stopped: a text mentions /book/ but holds no link: " + body}
	}
	s.stage = 1
	s.lines, s.result = make(chan string, 16), make(chan error, 1)
	go func() {
		_, slot, err := sandbox.BookFirstSlot(ctx, link, func(h string) { s.lines <- "  the booking page says: " + h })
		if err == nil {
			s.lines <- "  " + s.name + " chose " + slot
		}
		s.result <- err
	}()
	return []string{fmt.Sprintf("online booking: %s opens the booking link from %s's first text: %s", s.name, shop, link)}
}

// confirmed reports the booking as the database has it once the page said
// booked: the CRM's appointment, the lead, the follow-ups, the text.
func (s *bookingScene) confirmed(ctx context.Context) []string {
	var appointment, status, confirmation string
	var cancelled int
	err := s.pool.QueryRow(ctx, `SELECT b.crm_appointment_id, l.status,
			coalesce((SELECT m.body FROM messages m WHERE m.tenant_id = l.tenant_id AND m.lead_id = l.id
				AND m.step LIKE 'booking-%' AND m.status IN ('sent', 'delivered') LIMIT 1), ''),
			(SELECT count(*) FROM river_job j WHERE j.kind IN ('send_sms', 'send_email') AND j.args->>'lead_id' = l.id::text AND j.state = 'cancelled')
		FROM bookings b JOIN leads l ON l.tenant_id = b.tenant_id AND l.id = b.lead_id
		WHERE b.lead_id = $1 AND b.state = 'booked'`, s.lead).Scan(&appointment, &status, &confirmation, &cancelled)
	if err != nil || confirmation == "" {
		if time.Since(s.bookedAt) > time.Minute {
			s.stage = 3
			return []string{"booking scene stopped: the booking has no confirmation text after a minute; see the worker logs"}
		}
		return nil
	}
	s.stage = 3
	return []string{fmt.Sprintf("booked: appointment %s in the CRM, lead %s, %d follow-up steps cancelled; %s is texted %q",
		appointment, status, cancelled, s.name, confirmation)}
}

func (s *bookingScene) drain() []string {
	var out []string
	for {
		select {
		case l := <-s.lines:
			out = append(out, l)
		default:
			return out
		}
	}
}
