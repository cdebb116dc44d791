package httpapi

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/leadorch/lead-orchestrator/internal/messaging"
	"github.com/leadorch/lead-orchestrator/internal/messaging/sendgrid"
)

// maxWebhookBody bounds a webhook body. SendGrid batches up to a few
// thousand events (well under this); anything larger is not SendGrid.
const maxWebhookBody = 4 << 20

// handleSendGridEvents verifies a signed event batch over its raw bytes,
// then hands the events on (a job insert) and answers 200. A bad or stale
// signature is 401 and enqueues nothing; an oversized or malformed body is
// 4xx; a failure to enqueue is 500, so SendGrid redelivers the batch.
func handleSendGridEvents(logger *slog.Logger, verifier *sendgrid.EventVerifier, enqueue func(context.Context, []messaging.EmailEvent) error, now func() time.Time) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxWebhookBody))
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": "body larger than 4 MiB"})
			return
		}
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "error reading body"})
			return
		}
		if err := verifier.Verify(body, r.Header.Get(sendgrid.SignatureHeader), r.Header.Get(sendgrid.TimestampHeader), now()); err != nil {
			rejectUnverified(w, r, logger, "sendgrid_events", uuid.Nil, err.Error())
			return
		}
		events, err := sendgrid.ParseEvents(body)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		if len(events) > 0 {
			if err := enqueue(r.Context(), events); err != nil {
				logger.ErrorContext(r.Context(), "error enqueuing sendgrid events", slog.String("error", err.Error()))
				writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "could not store events; redeliver"})
				return
			}
		}
		writeJSON(w, http.StatusOK, map[string]int{"accepted": len(events)})
	})
}
