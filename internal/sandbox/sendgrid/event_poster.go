package fakesendgrid

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// EventPoster delivers the SendGrid fake's events to a worker's webhook, as
// SendGrid does: signed batches, "processed" for every accepted email (and
// "delivered" a moment later), redelivered until a 2xx answer. With several
// URLs it tries them in turn, as a load balancer in front of replicas would.
type EventPoster struct {
	sg     *API
	urls   []string
	client *http.Client

	mu   sync.Mutex
	next int // index into sg.Emails() of the first email not yet posted
	sent int
	fail int
}

// NewEventPoster returns a poster for sg's accepted emails to urls.
func NewEventPoster(sg *API, urls ...string) *EventPoster {
	return &EventPoster{sg: sg, urls: urls, client: &http.Client{Timeout: 5 * time.Second}}
}

// Run posts new events every interval until ctx ends.
func (p *EventPoster) Run(ctx context.Context, interval time.Duration) {
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			p.Flush(ctx)
		}
	}
}

// Flush posts the events of every email accepted since the last successful
// post. On failure the same events are posted again next time.
func (p *EventPoster) Flush(ctx context.Context) {
	p.mu.Lock()
	defer p.mu.Unlock()
	emails := p.sg.Emails()
	if p.next >= len(emails) {
		return
	}
	batch := emails[p.next:]
	if len(batch) > 500 {
		batch = batch[:500]
	}
	now := time.Now()
	events := make([]Event, 0, 2*len(batch))
	for _, e := range batch {
		events = append(events, NewEvent(e, "processed", now), NewEvent(e, "delivered", now.Add(time.Second)))
	}
	body, err := json.Marshal(events)
	if err != nil {
		return
	}
	for i := range p.urls {
		url := p.urls[(p.sent+p.fail+i)%len(p.urls)]
		if p.post(ctx, url, body) == nil {
			p.next += len(batch)
			p.sent++
			return
		}
	}
	p.fail++
}

func (p *EventPoster) post(ctx context.Context, url string, body []byte) error {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	sig, err := SignEvents(body, ts)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Twilio-Email-Event-Webhook-Signature", sig)
	req.Header.Set("X-Twilio-Email-Event-Webhook-Timestamp", ts)
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s answered %s", strings.TrimSpace(url), resp.Status)
	}
	return nil
}

// Posted reports how many emails have had their events delivered.
func (p *EventPoster) Posted() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.next
}
