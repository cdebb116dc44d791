package sandbox

import (
	"net/http"
	"slices"
	"strconv"
	"time"
)

// SimulatedEvent is one thing played through the Simulator (by the
// /_sandbox/simulate routes or by Go): a customer's text, a bounce or a
// lead added and announced. `make demo` follows them, so what a person
// plays by hand shows on its console beside what the fleet did about it;
// before the feed a hand-played STOP showed nothing there.
type SimulatedEvent struct {
	// Seq numbers the events from 1, in the order they happened.
	Seq int64     `json:"seq"`
	At  time.Time `json:"at"`
	// Kind is reply, stop, start, help, bounce, lead or call.
	Kind   string         `json:"kind"`
	Text   *DeliveredText `json:"text,omitempty"`
	Bounce *EmailBounce   `json:"bounce,omitempty"`
	Lead   *Announcement  `json:"lead,omitempty"`
	Email  *EmailReply    `json:"email,omitempty"`
	Call   *PlayedCall    `json:"call,omitempty"`
}

// The kinds of SimulatedEvent.
const (
	SimulatedReply  = "reply"
	SimulatedStop   = "stop"
	SimulatedStart  = "start"
	SimulatedHelp   = "help"
	SimulatedBounce = "bounce"
	SimulatedLead   = "lead"
	// SimulatedEmailReply is an email reply to a reply address: a
	// customer's to our email, or the shop's to its notice.
	SimulatedEmailReply = "email_reply"
)

// maxSimulatedEvents is how many events the feed keeps: a follower that
// falls further behind loses the oldest (their numbers show the gap).
const maxSimulatedEvents = 1000

// record adds what was delivered to the feed. Only deliveries the worker
// took are events: a refused one was answered to whoever asked.
func (s *Simulator) record(e SimulatedEvent) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	e.Seq, e.At = s.seq, time.Now()
	s.events = append(s.events, e)
	if over := len(s.events) - maxSimulatedEvents; over > 0 {
		s.events = slices.Delete(s.events, 0, over)
	}
}

// recordText adds a customer's text to the feed, its kind from Twilio's
// opt-out type.
func (s *Simulator) recordText(d DeliveredText) {
	kind := SimulatedReply
	switch d.OptOutType {
	case "STOP":
		kind = SimulatedStop
	case "START":
		kind = SimulatedStart
	case "HELP":
		kind = SimulatedHelp
	}
	s.record(SimulatedEvent{Kind: kind, Text: &d})
}

// Events returns the events numbered after seq, oldest first.
func (s *Simulator) Events(after int64) []SimulatedEvent {
	s.mu.Lock()
	defer s.mu.Unlock()
	i, _ := slices.BinarySearchFunc(s.events, after+1, func(e SimulatedEvent, seq int64) int { return int(e.Seq - seq) })
	return slices.Clone(s.events[i:])
}

// handleEvents answers GET /_sandbox/simulate/events?after=N.
func (s *Simulator) handleEvents(w http.ResponseWriter, r *http.Request) {
	var after int64
	if raw := r.URL.Query().Get("after"); raw != "" {
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < 0 {
			writeControlJSON(w, http.StatusBadRequest, map[string]string{"error": "after: want the seq of the last event seen (0 or more), got " + strconv.Quote(raw)})
			return
		}
		after = n
	}
	writeControlJSON(w, http.StatusOK, map[string]any{"events": s.Events(after)})
}
