package jobs

import (
	"context"
	"errors"
	"testing"

	"github.com/riverqueue/river"
	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/fixture"
	"github.com/leadorch/lead-orchestrator/internal/lead"
	"github.com/leadorch/lead-orchestrator/internal/store"
	"github.com/leadorch/lead-orchestrator/internal/testdb"
)

// TestCancelIfInvalidText: when text Postgres cannot store still reaches
// the leads table (the decoders clean what they read; this is the net
// under them), the real Postgres error, 22021 for a NUL in a text column
// or 22P05 for \u0000 in the vehicle's jsonb, becomes a cancel naming the
// field, not an error River retries ten times and discards without saying
// which field. Any other error is passed on untouched, to be retried.
func TestCancelIfInvalidText(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := testdb.NewApp(t)
	keys, _ := fixture.Keyring(t, "test")
	tenant := fixture.Create(t, store.New(db.App), keys,
		fixture.ShopMonkeyTenant("nul", fixture.TextsFrom("+15005550006"), fixture.SendAnyTime), "sm_key_nul")

	for _, tc := range []struct {
		name, field, sqlState string
		spoil                 func(*lead.Lead)
	}{
		{"SummaryNUL", "summary", "22021", func(l *lead.Lead) { l.Summary = "Brakes\x00squeal" }},
		{"FirstNameNotUTF8", "first_name", "22021", func(l *lead.Lead) { l.FirstName = "Fr\xe9d\xe9ric" }},
		{"VehicleMakeNUL", "vehicle.make", "22P05", func(l *lead.Lead) { l.Vehicle.Make = "Hon\x00da" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := lead.Lead{CRM: "shopmonkey", ExternalID: "order:" + tc.name, Source: lead.SourceEstimate, Status: lead.StatusNew,
				CustomerExternalID: "c1", FirstName: "Ann", Email: "ann@example.com", Summary: "Brakes"}
			tc.spoil(&l)
			_, _, upsertErr := store.New(db.App).UpsertLead(ctx, tenant.ID, l, false)
			require.ErrorContains(t, upsertErr, "SQLSTATE "+tc.sqlState, "Postgres refuses it")

			err := cancelIfInvalidText(l.ExternalID, l, upsertErr)
			var cancel *river.JobCancelError
			require.ErrorAs(t, err, &cancel, "cancelled, not retried")
			var vErr *lead.ValidationError
			require.ErrorAs(t, err, &vErr)
			require.Equal(t, tc.field, vErr.Field)
			require.Contains(t, err.Error(), "lead "+l.ExternalID+": invalid "+tc.field+": holds a NUL byte or text that is not UTF-8")
			require.False(t, lead.InvalidText(err.Error()), "the error itself can be stored")
		})
	}

	other := errors.New("connection reset")
	require.Same(t, other, cancelIfInvalidText("order:1", lead.Lead{}, other), "other errors retry")
}
