package httpapi

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// cssRule is one rule of page.html's style: its selector and its
// declarations.
var cssRule = regexp.MustCompile(`([^{}]+)\{([^}]*)\}`)

// cssColor finds a declaration's hex colour.
var cssColor = regexp.MustCompile(`(?:^|;)\s*(color|background)\s*:\s*(#[0-9a-fA-F]{6}|#[0-9a-fA-F]{3})\b`)

// TestBookingPageContrast: every colour page.html sets on text is 4.5:1 or
// more against the background it sits on (WCAG 2 AA for body text), as
// the README promises. A rule that sets only a background is read with the
// body's text colour; one that sets only a colour, on the body's
// background.
func TestBookingPageContrast(t *testing.T) {
	t.Parallel()
	page, err := bookingFiles.ReadFile("booking/page.html")
	require.NoError(t, err)
	_, style, ok := strings.Cut(string(page), "<style")
	require.True(t, ok, "page.html has its style inline")
	_, style, _ = strings.Cut(style, ">")
	style, _, _ = strings.Cut(style, "</style>")

	rules := map[string]map[string]string{}
	var order []string
	for _, m := range cssRule.FindAllStringSubmatch(style, -1) {
		sel := strings.TrimSpace(m[1])
		decls := map[string]string{}
		for _, c := range cssColor.FindAllStringSubmatch(m[2], -1) {
			decls[c[1]] = c[2]
		}
		if len(decls) > 0 {
			rules[sel] = decls
			order = append(order, sel)
		}
	}
	body := rules["body"]
	require.NotEmpty(t, body["color"], "body sets the text colour")
	require.NotEmpty(t, body["background"], "body sets the background")
	checked := 0
	for _, sel := range order {
		fg, bg := rules[sel]["color"], rules[sel]["background"]
		if fg == "" {
			fg = body["color"]
		}
		if bg == "" {
			bg = body["background"]
		}
		ratio := contrastRatio(t, fg, bg)
		require.GreaterOrEqual(t, ratio, 4.5, "%s: %s on %s is %.2f:1", sel, fg, bg, ratio)
		checked++
	}
	require.GreaterOrEqual(t, checked, 6, "the body, links, buttons, notes and muted text are all checked")
}

// contrastRatio is WCAG 2's contrast ratio of two sRGB hex colours.
func contrastRatio(t *testing.T, a, b string) float64 {
	la, lb := luminance(t, a), luminance(t, b)
	return (math.Max(la, lb) + 0.05) / (math.Min(la, lb) + 0.05)
}

// luminance is WCAG 2's relative luminance of a hex colour.
func luminance(t *testing.T, hex string) float64 {
	t.Helper()
	hex = strings.TrimPrefix(hex, "#")
	if len(hex) == 3 {
		hex = string([]byte{hex[0], hex[0], hex[1], hex[1], hex[2], hex[2]})
	}
	var lin [3]float64
	for i := range lin {
		v, err := strconv.ParseUint(hex[2*i:2*i+2], 16, 8)
		require.NoError(t, err, "colour #%s", hex)
		c := float64(v) / 255
		if c <= 0.03928 {
			lin[i] = c / 12.92
		} else {
			lin[i] = math.Pow((c+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*lin[0] + 0.7152*lin[1] + 0.0722*lin[2]
}
