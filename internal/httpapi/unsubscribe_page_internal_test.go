package httpapi

import (
	"html/template"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestUnsubscribeTokenRedacted: a log line of the unsubscribe route never
// holds the token, which unsubscribes whoever's email it came in.
func TestUnsubscribeTokenRedacted(t *testing.T) {
	t.Parallel()
	redact := tokenRedactor(nil)
	require.Equal(t, "/unsubscribe/****", redact("/unsubscribe/AQR0ZXN0qfvKQH0OQ0qWWieWFZZH"))
	require.Equal(t, "/unsubscribe/****", redact("/unsubscribe/AQR0/extra"))
	require.Equal(t, "/unsubscribe", redact("/unsubscribe"), "not the route: nothing to hide")
}

// TestUnsubscribeTemplates: every view the page has renders, the ask with
// its one-click form and the rest without.
func TestUnsubscribeTemplates(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		v    unsubscribeView
		form bool
	}{
		"Ask":     {unsubscribeView{Shop: "Joe's", Heading: "Unsubscribe from Joe's emails?", Ask: true}, true},
		"Done":    {unsubscribeView{Shop: "Joe's", Heading: "You are unsubscribed", Lines: []string{"a", "b"}}, false},
		"Unknown": {unsubscribeView{Heading: "This link does not work"}, false},
	} {
		var b strings.Builder
		require.NoError(t, unsubscribeTemplates.ExecuteTemplate(&b, "page", tc.v), name)
		require.Contains(t, b.String(), "<h1>"+template.HTMLEscapeString(tc.v.Heading)+"</h1>", name)
		if tc.form {
			require.Contains(t, b.String(), `<input type="hidden" name="List-Unsubscribe" value="One-Click">`, name)
		} else {
			require.NotContains(t, b.String(), "<form", name)
		}
	}
}
