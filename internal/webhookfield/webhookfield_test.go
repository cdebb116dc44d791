package webhookfield_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/webhookfield"
)

func TestText(t *testing.T) {
	t.Parallel()
	s, err := webhookfield.Text("data.id", json.RawMessage(`"ord_1"`), true)
	require.NoError(t, err)
	require.Equal(t, "ord_1", s)
	s, err = webhookfield.Text("data.status", nil, false)
	require.NoError(t, err)
	require.Empty(t, s)

	for raw, problem := range map[string]string{
		``:                                    "field data.id: is missing",
		`null`:                                "field data.id: is missing",
		`""`:                                  "field data.id: is empty",
		`7`:                                   `field data.id: is not a string: "7"`,
		`"a\u0000b"`:                          "field data.id: contains a NUL character",
		`"a\u0007b"`:                          "field data.id: contains control characters",
		`"` + strings.Repeat("x", 9000) + `"`: "field data.id: is longer than 8192 bytes",
	} {
		_, err := webhookfield.Text("data.id", json.RawMessage(raw), true)
		require.ErrorContains(t, err, problem, raw)
	}
}

func TestPositiveInt(t *testing.T) {
	t.Parallel()
	n, err := webhookfield.PositiveInt("data.id", json.RawMessage(` 42 `))
	require.NoError(t, err)
	require.Equal(t, int64(42), n)
	for _, raw := range []string{``, `null`, `0`, `-1`, `1.5`, `"5"`, `99999999999999999999`} {
		_, err := webhookfield.PositiveInt("data.id", json.RawMessage(raw))
		require.ErrorContains(t, err, "field data.id: ", raw)
	}
}

func TestObject(t *testing.T) {
	t.Parallel()
	var v struct{ A int }
	require.NoError(t, webhookfield.Object([]byte(` {"A":1}`), &v))
	require.Equal(t, 1, v.A)
	for _, raw := range []string{``, `[]`, `null`, `{"A":"x"}`} {
		require.ErrorContains(t, webhookfield.Object([]byte(raw), &v), "is not a JSON object", raw)
	}
}

func TestUnstorableAndExcerpt(t *testing.T) {
	t.Parallel()
	require.Empty(t, webhookfield.Unstorable("Yes, Tuesday"))
	require.Equal(t, "is not valid UTF-8", webhookfield.Unstorable("\xff"))
	require.Equal(t, `"`+strings.Repeat("x", 40)+`..."`, webhookfield.Excerpt(strings.Repeat("x", 50)))
}
