package httpapi

import (
	"log/slog"
	"net/http"

	"github.com/google/uuid"
)

// maxEmailEventsBody bounds an event webhook body. SendGrid batches up to
// a few thousand events (well under this); anything larger is not
// SendGrid.
const maxEmailEventsBody = 4 << 20

// handleEmailEvents takes a signed email event batch: the provider's
// parser verifies it over its raw bytes, then the events are handed on (a
// job insert) and the route answers 200. A bad or stale signature is 401
// and enqueues nothing; an oversized or malformed body is 4xx; a failure
// to enqueue is 500, so the provider redelivers the batch.
func (wr *webhookRoutes) handleEmailEvents() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := readBody(w, r, maxEmailEventsBody, "body larger than 4 MiB")
		if !ok {
			return
		}
		deliveryKey, events, err := wr.email.ParseEvents(r.Header, body, wr.now())
		if err != nil {
			refuseParsed(w, r, wr.logger, "sendgrid_events", uuid.Nil, err)
			return
		}
		if len(events) > 0 {
			if err := wr.intake.EmailEvents(r.Context(), deliveryKey, events); err != nil {
				wr.logger.ErrorContext(r.Context(), "error enqueuing sendgrid events", slog.String("error", err.Error()))
				writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "could not store events; redeliver"})
				return
			}
		}
		writeJSON(w, http.StatusOK, map[string]int{"accepted": len(events)})
	})
}
