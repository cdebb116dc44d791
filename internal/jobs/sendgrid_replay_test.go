package jobs_test

import (
	"context"
	"crypto/elliptic"
	"encoding/asn1"
	"encoding/base64"
	"math/big"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/lead"
	fakesendgrid "github.com/leadorch/lead-orchestrator/internal/sandbox/sendgrid"
)

// TestSendGridReplay: a captured, validly signed event batch posted again
// within the freshness window is acknowledged and enqueues nothing: one
// stored batch, one job. Re-encoding the signature (ECDSA's (r, n-s)
// verifies too) does not make it new; the same events signed at another
// timestamp (SendGrid's own redelivery) are a new delivery, whose events
// are then applied once.
func TestSendGridReplay(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	w := newEmailWorld(t, 0)
	tenant := w.addShop(t, "replay")
	leadID := w.newLead(t, tenant, 1)
	waitFinal(t, w.client, w.sendEmail(t, tenant, leadID))
	sent := w.sandbox.SendGrid.Emails()[0]
	body := mustJSON(t, []fakesendgrid.Event{fakesendgrid.NewEvent(sent, "bounce", time.Now())})
	batches := func() (jobs, stored int) {
		return w.count(t, `SELECT count(*) FROM river_job WHERE kind = 'record_email_event_batch'`),
			w.count(t, `SELECT count(*) FROM email_event_batches WHERE tenant_id = $1`, tenant.ID)
	}

	stamp := strconv.FormatInt(time.Now().Unix(), 10)
	sig, err := fakesendgrid.SignEvents(body, stamp)
	require.NoError(t, err)
	for range 3 {
		require.Equal(t, 200, postEvents(t, w.hookURL, body, stamp, sig), "a replay is acknowledged")
	}
	jobs, stored := batches()
	require.Equal(t, 1, jobs, "one job for one delivery")
	require.Equal(t, 1, stored, "one stored batch")

	require.Equal(t, 200, postEvents(t, w.hookURL, body, stamp, malleate(t, sig)), "the re-encoded signature verifies")
	jobs, stored = batches()
	require.Equal(t, 1, jobs, "a re-encoded signature is the same delivery")
	require.Equal(t, 1, stored)

	later := strconv.FormatInt(time.Now().Unix()+1, 10)
	resigned, err := fakesendgrid.SignEvents(body, later)
	require.NoError(t, err)
	require.Equal(t, 200, postEvents(t, w.hookURL, body, later, resigned))
	jobs, stored = batches()
	require.Equal(t, 2, jobs, "signed at another timestamp: a new delivery")
	require.Equal(t, 2, stored)

	require.Eventually(t, func() bool {
		return w.count(t, `SELECT count(*) FROM river_job WHERE kind = 'record_email_event_batch' AND state = 'completed'`) == 2
	}, 10*time.Second, 20*time.Millisecond)
	suppressed, err := w.store.IsSuppressed(ctx, tenant.ID, lead.ChannelEmail, sent.To)
	require.NoError(t, err)
	require.True(t, suppressed)
	require.Equal(t, 1, w.count(t, `SELECT count(*) FROM message_events WHERE tenant_id = $1 AND event = 'bounce'`, tenant.ID),
		"the event is applied once")
	require.Zero(t, w.count(t, `SELECT count(*) FROM email_event_batches WHERE events <> '[]'`), "applied batches keep no events")
}

// malleate returns the other encoding of an ECDSA P-256 signature that
// verifies for the same message: (r, n-s).
func malleate(t *testing.T, sig string) string {
	t.Helper()
	der, err := base64.StdEncoding.DecodeString(sig)
	require.NoError(t, err)
	var rs struct{ R, S *big.Int }
	_, err = asn1.Unmarshal(der, &rs)
	require.NoError(t, err)
	rs.S = new(big.Int).Sub(elliptic.P256().Params().N, rs.S)
	out, err := asn1.Marshal(rs)
	require.NoError(t, err)
	other := base64.StdEncoding.EncodeToString(out)
	require.NotEqual(t, sig, other)
	return other
}
