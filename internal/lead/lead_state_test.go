package lead_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/lead"
)

func TestNextStatus(t *testing.T) {
	t.Parallel()

	const (
		statusNew = lead.StatusNew
		contacted = lead.StatusContacted
		replied   = lead.StatusReplied
		booked    = lead.StatusBooked
		optedOut  = lead.StatusOptedOut
		closed    = lead.StatusClosed

		sent     = lead.EventMessageSent
		reply    = lead.EventReplied
		optOut   = lead.EventOptedOut
		optIn    = lead.EventOptedIn
		book     = lead.EventBooked
		ended    = lead.EventSequenceEnded
		closeEvt = lead.EventClosed
	)
	// Every (status, event) pair, one row each.
	tests := []struct {
		from  lead.Status
		event lead.LeadEvent
		to    lead.Status
	}{
		{statusNew, sent, contacted},
		{statusNew, reply, replied},
		{statusNew, optOut, optedOut},
		{statusNew, optIn, statusNew},
		{statusNew, book, booked},
		{statusNew, ended, statusNew},
		{statusNew, closeEvt, closed},

		{contacted, sent, contacted},
		{contacted, reply, replied},
		{contacted, optOut, optedOut},
		{contacted, optIn, contacted},
		{contacted, book, booked},
		{contacted, ended, contacted},
		{contacted, closeEvt, closed},

		{replied, sent, replied},
		{replied, reply, replied},
		{replied, optOut, optedOut},
		{replied, optIn, replied},
		{replied, book, booked},
		{replied, ended, replied},
		{replied, closeEvt, closed},

		{booked, sent, booked},
		{booked, reply, booked},
		{booked, optOut, booked},
		{booked, optIn, booked},
		{booked, book, booked},
		{booked, ended, booked},
		{booked, closeEvt, closed},

		{optedOut, sent, optedOut},
		{optedOut, reply, optedOut},
		{optedOut, optOut, optedOut},
		{optedOut, optIn, contacted},
		{optedOut, book, booked},
		{optedOut, ended, optedOut},
		{optedOut, closeEvt, closed},

		{closed, sent, closed},
		{closed, reply, closed},
		{closed, optOut, closed},
		{closed, optIn, closed},
		{closed, book, closed},
		{closed, ended, closed},
		{closed, closeEvt, closed},

		// What we do not know changes nothing.
		{contacted, "teleported", contacted},
		{"archived", reply, "archived"},
	}

	statuses := []lead.Status{statusNew, contacted, replied, booked, optedOut, closed}
	events := []lead.LeadEvent{sent, reply, optOut, optIn, book, ended, closeEvt}
	covered := map[lead.Status]map[lead.LeadEvent]bool{}
	for _, tt := range tests {
		if covered[tt.from] == nil {
			covered[tt.from] = map[lead.LeadEvent]bool{}
		}
		covered[tt.from][tt.event] = true
	}
	for _, s := range statuses {
		for _, e := range events {
			require.True(t, covered[s][e], "no row for (%s, %s)", s, e)
		}
	}

	for _, tt := range tests {
		t.Run(string(tt.from)+"/"+string(tt.event), func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.to, lead.NextStatus(tt.from, tt.event))
		})
	}
}

func TestStatusStopsSequence(t *testing.T) {
	t.Parallel()

	tests := []struct {
		status lead.Status
		stops  bool
	}{
		{lead.StatusNew, false},
		{lead.StatusContacted, false},
		{lead.StatusReplied, true},
		{lead.StatusBooked, true},
		{lead.StatusOptedOut, true},
		{lead.StatusClosed, true},
	}
	for _, tt := range tests {
		t.Run(string(tt.status), func(t *testing.T) {
			t.Parallel()
			require.Equal(t, tt.stops, tt.status.StopsSequence())
		})
	}
}
