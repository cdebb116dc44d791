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

// TestUnsubscribePageContrast: every colour the unsubscribe page sets on
// text is 4.5:1 or more against its background, as the booking page's
// (TestBookingPageContrast, whose reading of colours this repeats).
func TestUnsubscribePageContrast(t *testing.T) {
	t.Parallel()
	page, err := unsubscribeFiles.ReadFile("unsubscribe/page.html")
	require.NoError(t, err)
	_, style, ok := strings.Cut(string(page), "<style")
	require.True(t, ok, "page.html has its style inline")
	_, style, _ = strings.Cut(style, ">")
	style, _, _ = strings.Cut(style, "</style>")
	rules := map[string]map[string]string{}
	for _, m := range cssRule.FindAllStringSubmatch(style, -1) {
		decls := map[string]string{}
		for _, c := range cssColor.FindAllStringSubmatch(m[2], -1) {
			decls[c[1]] = c[2]
		}
		if len(decls) > 0 {
			rules[strings.TrimSpace(m[1])] = decls
		}
	}
	body := rules["body"]
	require.NotEmpty(t, body["color"])
	require.NotEmpty(t, body["background"])
	require.Len(t, rules, 3, "the body, the button and muted text")
	for sel, d := range rules {
		fg, bg := d["color"], d["background"]
		if fg == "" {
			fg = body["color"]
		}
		if bg == "" {
			bg = body["background"]
		}
		ratio := contrastRatio(t, fg, bg)
		require.GreaterOrEqual(t, ratio, 4.5, "%s: %s on %s is %.2f:1", sel, fg, bg, ratio)
	}
}
