package jobs_test

import (
	"context"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/jobs"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
)

// bookingTemplate is the test fleet's first text with the booking link
// (and STOP, which every first text must name).
const bookingTemplate = "Hi {{.Lead.FirstName}}, {{.Shop.Name}} got your request.{{with .BookingURL}} Book a time: {{.}}{{end}} Reply STOP to opt out."

var linkPattern = regexp.MustCompile(`https://book\.test/book/([a-z2-7]{32})`)

func TestBookingLinkInFirstText(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	b.deps.PublicURL = "https://book.test"
	b.deps.Templates.SMS = bookingTemplate
	on := b.addShop(t, "on")
	on.Booking = lead.BookingSettings{Enabled: true, LinkTTLHours: 2}
	on, err := b.store.UpdateTenant(ctx, on, nil)
	require.NoError(t, err)
	off := b.addShop(t, "off")
	leadOn, leadOff := b.newLead(t, on, 1), b.newLead(t, off, 2)
	client := b.startClient(t, jobs.ClientOpts{})

	insertAndWait(t, client, jobs.SendSMSArgs{TenantID: on.ID, LeadID: leadOn, Step: jobs.StepInitial})
	insertAndWait(t, client, jobs.SendSMSArgs{TenantID: off.ID, LeadID: leadOff, Step: jobs.StepInitial})

	withLink := b.message(t, on.ID, leadOn, lead.ChannelSMS)
	m := linkPattern.FindStringSubmatch(withLink.Body)
	require.NotNil(t, m, "booking on: the first text carries the link: %q", withLink.Body)
	require.Equal(t, b.keys.LinkToken(on.ID, leadOn), m[1])
	without := b.message(t, off.ID, leadOff, lead.ChannelSMS)
	require.NotContains(t, without.Body, "/book/", "booking off: no link")
	require.NotContains(t, without.Body, "Book a time")

	owner, err := store.New(b.deps.Pool).ResolveBookingLink(ctx, jobs.BookingTokenHash(m[1]))
	require.NoError(t, err)
	require.Equal(t, on.ID, owner.TenantID)
	require.Equal(t, leadOn, owner.LeadID)
	require.WithinDuration(t, time.Now().Add(2*time.Hour), owner.ExpiresAt, time.Minute, "the tenant's TTL")
	require.Zero(t, b.count(t, `SELECT count(*) FROM booking_links WHERE tenant_id = $1`, off.ID), "no link row for a message without one")
}
