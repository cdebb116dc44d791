package faketekmetric_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake/faketest"
	faketekmetric "github.com/leadorch/lead-orchestrator/internal/sandbox/tekmetric"
)

func TestPostTekmetricWebhook(t *testing.T) {
	t.Parallel()
	b := faketest.NewReceiver(t)
	require.NoError(t, faketekmetric.PostWebhook(context.Background(), nil, b.URL+"/webhooks/tekmetric/t1/tok", "Repair Order Created", map[string]any{"id": 42, "shopId": 238}))
	got := b.Only(t)
	require.Equal(t, "/webhooks/tekmetric/t1/tok", got.Path)
	require.JSONEq(t, `{"event":"Repair Order Created","data":{"id":42,"shopId":238}}`, string(got.Body))

	faketest.Run(t, "Non2xxIsAnErrorWithoutThePath", func(t *testing.T) {
		b := faketest.NewReceiver(t)
		b.Answer(http.StatusUnauthorized)
		err := faketekmetric.PostWebhook(context.Background(), nil, b.URL+"/webhooks/tekmetric/t1/secret-token", "Appointment Created", map[string]any{"id": 1})
		require.ErrorContains(t, err, "401")
		require.NotContains(t, err.Error(), "secret-token")
	})
}
