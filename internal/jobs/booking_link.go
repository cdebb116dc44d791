package jobs

import (
	"context"
	"crypto/sha256"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// bookingLinkTTLHours is the link's life when the tenant sets none
// (lead.BookingSettings.LinkTTLHours' documented default, a week).
const bookingLinkTTLHours = 168

// bookingLink is the lead's booking link for step's message, or "" when it
// carries none: the fleet has no public URL, the shop has booking off, the
// message goes to the shop (a notice), or the lead cannot book (opted
// out, closed; booked already, except in the confirmations, whose link
// moves or cancels the booking). The token is deterministic (LinkToken), so
// every attempt renders the same body.
func (d *Deps) bookingLink(t lead.Tenant, l lead.Lead, step lead.Step) string {
	if d.PublicURL == "" || !t.Booking.Enabled || step.IsNotice() {
		return ""
	}
	switch l.Status {
	case lead.StatusOptedOut, lead.StatusClosed:
		return ""
	case lead.StatusBooked:
		// A booked lead's link is for changing the booking: only its
		// confirmations carry it.
		if !step.IsBookingText() {
			return ""
		}
	}
	return d.bookingURL(t.ID, l.ID)
}

// bookingURL is the lead's booking page.
func (d *Deps) bookingURL(tenantID, leadID uuid.UUID) string {
	return strings.TrimRight(d.PublicURL, "/") + "/book/" + d.Credentials.LinkToken(tenantID, leadID)
}

// BookingTokenHash is how a booking token is stored and looked up: its
// SHA-256, so the table holds no working link.
func BookingTokenHash(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

// touchBookingLink records that body carries link (nothing when it does
// not: a template that does not use {{.BookingURL}} opens no link), valid
// for the tenant's TTL from now.
func (d *Deps) touchBookingLink(ctx context.Context, t lead.Tenant, leadID uuid.UUID, link, body string) error {
	if link == "" || !strings.Contains(body, link) {
		return nil
	}
	ttl := t.Booking.LinkTTLHours
	if ttl <= 0 {
		ttl = bookingLinkTTLHours
	}
	token := link[strings.LastIndex(link, "/")+1:]
	return store.New(d.Pool).TouchBookingLink(ctx, t.ID, leadID, BookingTokenHash(token),
		d.now().Add(time.Duration(ttl)*time.Hour))
}
