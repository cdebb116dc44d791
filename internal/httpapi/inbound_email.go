package httpapi

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/google/uuid"

	"github.com/leadorch/lead-orchestrator/internal/messaging"
	"github.com/leadorch/lead-orchestrator/internal/metrics"
)

// maxInboundEmailBody bounds an Inbound Parse post: SendGrid's own cap on
// a received mail is 30 MB, and its attachments come in the same body.
const maxInboundEmailBody = 31 << 20

// handleInboundEmail takes an email SendGrid Inbound Parse received at a
// reply address. The parser verifies the post over its raw bytes, then
// the intake stores it against the lead the address belongs to and
// enqueues its handling, and the route answers 200.
//
// SendGrid retries a 5xx for three days and drops the mail after, so 5xx
// means only "store failed, redeliver". A bad or stale signature is 401;
// a mail to no reply address of ours (a made-up or mistyped token) is
// 404 and stores nothing; an oversized body 413 (retrying would not
// shrink it); a verified post that is not Parse's form 400.
func (wr *webhookRoutes) handleInboundEmail() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := readBody(w, r, maxInboundEmailBody, "body larger than 31 MiB")
		if !ok {
			return
		}
		m, err := wr.inboundEmail.ParseInboundEmail(r.Header, body, wr.now())
		if err != nil {
			refuseParsed(w, r, wr.logger, "sendgrid_inbound", uuid.Nil, err)
			return
		}
		m.ReceivedAt = wr.now()
		err = wr.intake.InboundEmail(r.Context(), m)
		switch {
		case errors.Is(err, messaging.ErrUnknownReplyAddress):
			noteRefusal(r, metrics.ReasonUnknownAddress)
			wr.logger.WarnContext(r.Context(), "inbound email to no reply address of ours refused", slog.Int("recipients", len(m.Recipients)))
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such reply address"})
		case err != nil:
			wr.logger.ErrorContext(r.Context(), "error storing an inbound email", slog.String("error", err.Error()))
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "could not store the email; redeliver"})
		default:
			writeJSON(w, http.StatusOK, map[string]string{"status": "stored"})
		}
	})
}
