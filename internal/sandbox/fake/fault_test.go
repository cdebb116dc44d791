package fake_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
)

func TestFaultJSON(t *testing.T) {
	t.Parallel()

	t.Run("RoundTrip", func(t *testing.T) {
		t.Parallel()
		in := `{"status": 500, "code": 20500, "retry_after": "5s", "empty_body": true, "count": 3,
			"after": true, "latency": "200ms", "rate": 0.2,
			"path": "/Messages.json", "paths": ["/v3/order"], "method": "POST"}`
		var f fake.Fault
		require.NoError(t, json.Unmarshal([]byte(in), &f))
		require.Equal(t, fake.Fault{
			Status: 500, Code: 20500, RetryAfter: 5 * time.Second, EmptyBody: true, Count: 3,
			After: true, Latency: 200 * time.Millisecond, Rate: 0.2,
			Paths: []string{"/Messages.json", "/v3/order"}, Method: "POST",
		}, f)

		out, err := json.Marshal(f)
		require.NoError(t, err)
		var again fake.Fault
		require.NoError(t, json.Unmarshal(out, &again))
		require.Equal(t, f, again)
	})
	t.Run("HangAndReset", func(t *testing.T) {
		t.Parallel()
		var f fake.Fault
		require.NoError(t, json.Unmarshal([]byte(`{"hang": "30s", "reset": true}`), &f))
		require.Equal(t, fake.Fault{Hang: 30 * time.Second, Reset: true}, f)
		out, err := json.Marshal(f)
		require.NoError(t, err)
		require.JSONEq(t, `{"status":0,"code":0,"empty_body":false,"count":0,"hang":"30s","reset":true}`, string(out))
	})
	t.Run("OldShapeUnchanged", func(t *testing.T) {
		t.Parallel()
		out, err := json.Marshal(fake.Fault{Status: 429, RetryAfter: time.Second, Count: 1})
		require.NoError(t, err)
		require.JSONEq(t, `{"status":429,"code":0,"retry_after":"1s","empty_body":false,"count":1}`, string(out))
	})
	t.Run("Errors", func(t *testing.T) {
		t.Parallel()
		var f fake.Fault
		require.ErrorContains(t, json.Unmarshal([]byte(`{"status": 500, "retryAfter": "5s"}`), &f), "retryAfter")
		require.ErrorContains(t, json.Unmarshal([]byte(`{"hang": "forever"}`), &f), "hang")
		require.ErrorContains(t, json.Unmarshal([]byte(`{"latency": 200}`), &f), "latency")
	})
}

func TestFaultValidate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		fault fake.Fault
		err   string
	}{
		{"Status", fake.Fault{Status: 503}, ""},
		{"PureLatency", fake.Fault{Latency: time.Second}, ""},
		{"Reset", fake.Fault{Reset: true, After: true}, ""},
		{"Hang", fake.Fault{Hang: time.Second, Paths: []string{"/v3/order"}, Method: "get"}, ""},
		{"Nothing", fake.Fault{}, "needs status >= 400, latency, reset or hang"},
		{"LowStatus", fake.Fault{Status: 200}, "status must be 0 or 400-599"},
		{"AfterAlone", fake.Fault{After: true, Latency: time.Second}, "after needs status, reset or hang"},
		{"ResetWithStatus", fake.Fault{Reset: true, Status: 500}, "reset and hang answer nothing"},
		{"Rate", fake.Fault{Status: 500, Rate: 1.5}, "rate must be in [0, 1]"},
		{"Count", fake.Fault{Status: 500, Count: -1}, "count must be >= 0"},
		{"EmptyPath", fake.Fault{Status: 500, Paths: []string{""}}, "paths must not hold an empty string"},
		{"Method", fake.Fault{Status: 500, Method: "/POST"}, "method must be an HTTP method"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.fault.Validate()
			if tt.err == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tt.err)
		})
	}
}
