package faketwilio

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// listFilter is the parsed query of a Messages list request.
type listFilter struct {
	to, from string
	// on, onOrAfter, onOrBefore are the DateSent bounds; dateOnly says
	// whether each was given as YYYY-MM-DD (compared by UTC day).
	on, onOrAfter, onOrBefore *dateBound
}

// dateBound is one DateSent bound.
type dateBound struct {
	t        time.Time
	dateOnly bool
}

// listMessages answers a page of messages, newest first, with Twilio's
// envelope. Paging follows Twilio: PageSize (default 50, at most 1000),
// Page, and an opaque PageToken naming the last message of the previous
// page so pages stay stable while new messages arrive.
func (t *API) listMessages(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	filter, pageSize, page, invalid := parseListQuery(q)
	if invalid != "" {
		t.writeError(w, http.StatusBadRequest, 20001, invalid)
		return
	}

	t.mu.Lock()
	var matched []storedMessage
	for i := len(t.messages) - 1; i >= 0; i-- {
		if filter.matches(t.messages[i]) {
			matched = append(matched, t.messages[i])
		}
	}
	t.mu.Unlock()

	start := page * pageSize
	if token := q.Get("PageToken"); strings.HasPrefix(token, "PA") {
		after := strings.TrimPrefix(token, "PA")
		for i, m := range matched {
			if m.Sid == after {
				start = i + 1
				break
			}
		}
	}
	start = min(start, len(matched))
	end := min(start+pageSize, len(matched))
	pageItems := matched[start:end]

	items := make([]messageResource, len(pageItems))
	for i, m := range pageItems {
		items[i] = t.resource(m, true)
	}
	env := listEnvelope{Page: page, PageSize: pageSize, Start: start, End: max(start, end-1), Messages: items}
	env.linkPages(r.URL.Path, q, matched, end)
	t.writeJSON(w, http.StatusOK, env)
}

// parseListQuery reads a list request's filters and paging, or says what
// Twilio's 20001 answer says is wrong with them.
func parseListQuery(q url.Values) (filter listFilter, pageSize, page int, invalid string) {
	filter = listFilter{to: q.Get("To"), from: q.Get("From")}
	for _, p := range []struct {
		name string
		dst  **dateBound
	}{
		{"DateSent", &filter.on},
		{"DateSent>", &filter.onOrAfter},
		{"DateSent<", &filter.onOrBefore},
	} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		b, err := parseDateBound(v)
		if err != nil {
			return filter, 0, 0, fmt.Sprintf("Invalid value for %s: %s", p.name, v)
		}
		*p.dst = b
	}

	pageSize = 50
	if v := q.Get("PageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return filter, 0, 0, "Invalid PageSize: " + v
		}
		pageSize = min(n, 1000)
	}
	if v := q.Get("Page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return filter, 0, 0, "Invalid Page: " + v
		}
		page = n
	}
	return filter, pageSize, page, ""
}

// linkPages sets env's page URIs. They echo the caller's filters, as
// Twilio's do; the SDK follows next_page_uri verbatim. end is where env's
// page ends in matched.
func (env *listEnvelope) linkPages(base string, q url.Values, matched []storedMessage, end int) {
	pageURI := func(p int, token string) string {
		v := url.Values{}
		for _, k := range []string{"To", "From", "DateSent", "DateSent>", "DateSent<"} {
			if s := q.Get(k); s != "" {
				v.Set(k, s)
			}
		}
		v.Set("PageSize", strconv.Itoa(env.PageSize))
		v.Set("Page", strconv.Itoa(p))
		if token != "" {
			v.Set("PageToken", token)
		}
		return base + "?" + v.Encode()
	}
	env.FirstPageURI = pageURI(0, "")
	env.URI = pageURI(env.Page, q.Get("PageToken"))
	if end < len(matched) {
		next := pageURI(env.Page+1, "PA"+matched[end-1].Sid)
		env.NextPageURI = &next
	}
	if env.Page > 0 {
		prev := pageURI(env.Page-1, "")
		env.PreviousPageURI = &prev
	}
}

// matches reports whether m passes every filter.
func (f listFilter) matches(m storedMessage) bool {
	if f.to != "" && m.To != f.to {
		return false
	}
	if f.from != "" && m.From != f.from {
		return false
	}
	sent := m.CreatedAt.UTC()
	day := func(t time.Time) time.Time {
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
	if b := f.on; b != nil {
		if b.dateOnly && !day(sent).Equal(day(b.t)) || !b.dateOnly && !sent.Equal(b.t) {
			return false
		}
	}
	if b := f.onOrAfter; b != nil {
		if b.dateOnly && day(sent).Before(day(b.t)) || !b.dateOnly && sent.Before(b.t) {
			return false
		}
	}
	if b := f.onOrBefore; b != nil {
		if b.dateOnly && day(sent).After(day(b.t)) || !b.dateOnly && sent.After(b.t) {
			return false
		}
	}
	return true
}

// parseDateBound accepts the forms Twilio and its SDKs send for
// DateSent filters: YYYY-MM-DD, or RFC 3339 (what twilio-go sends).
func parseDateBound(v string) (*dateBound, error) {
	if d, err := time.Parse(time.DateOnly, v); err == nil {
		return &dateBound{t: d, dateOnly: true}, nil
	}
	ts, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil, err
	}
	return &dateBound{t: ts.UTC()}, nil
}

// listEnvelope is Twilio's page envelope for list answers.
type listEnvelope struct {
	End             int               `json:"end"`
	FirstPageURI    string            `json:"first_page_uri"`
	NextPageURI     *string           `json:"next_page_uri"`
	Page            int               `json:"page"`
	PageSize        int               `json:"page_size"`
	PreviousPageURI *string           `json:"previous_page_uri"`
	Start           int               `json:"start"`
	URI             string            `json:"uri"`
	Messages        []messageResource `json:"messages"`
}
