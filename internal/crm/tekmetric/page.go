package tekmetric

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/crm"
)

const (
	// pageSize is the most rows Tekmetric returns per page, whatever size
	// asks for.
	pageSize = 100
	// maxPages bounds one pass over a list, so that an API that never says
	// "last" cannot page forever: 100,000 rows is far beyond one poll
	// window of one shop.
	maxPages = 1000
	// maxPasses bounds the passes over a list whose totalElements keeps
	// changing while it is paged.
	maxPasses = 3
)

// page is a Spring Data page, the shape of every Tekmetric list.
type page struct {
	Content       []json.RawMessage `json:"content"`
	TotalPages    int               `json:"totalPages"`
	TotalElements int64             `json:"totalElements"`
	Last          *bool             `json:"last"`
	Number        int               `json:"number"`
}

// done reports whether p is the last page.
func (p page) done() bool {
	if p.Last != nil {
		return *p.Last
	}
	return p.Number+1 >= p.TotalPages
}

// listUpdated returns every row of path for the shop updated in
// [since, until), each once, plus rows the server put in its inclusive end
// (the caller filters the window again). filter adds query parameters.
//
// Pages are numbered, so a row that leaves the filter while the list is
// paged (an edit moves its updatedDate out) shifts the rows after it one
// page up, and one of them would be missed. When totalElements changes
// between pages the list is paged again, keeping what was seen, until a
// pass sees a stable total.
func (c *Client) listUpdated(ctx context.Context, path string, filter url.Values, since, until time.Time) ([]json.RawMessage, error) {
	q := url.Values{}
	for k, v := range filter {
		q[k] = v
	}
	q.Set("shop", strconv.FormatInt(c.shopID, 10))
	// Whole seconds, widened outwards: the window is checked again on the
	// client, and no API parser chokes on a second.
	q.Set("updatedDateStart", formatTime(since.Truncate(time.Second)))
	end := until.Truncate(time.Second)
	if end.Before(until) {
		end = end.Add(time.Second)
	}
	q.Set("updatedDateEnd", formatTime(end))
	return c.listAll(ctx, path, q)
}

// listAll pages through the list q asks for (adding size and page), each
// row once, paging again while totalElements changes (see listUpdated).
func (c *Client) listAll(ctx context.Context, path string, q url.Values) ([]json.RawMessage, error) {
	q.Set("size", strconv.Itoa(pageSize))
	l := rowSet{index: map[string]int{}}
	for range maxPasses {
		stable, err := c.listPass(ctx, path, q, &l)
		if err != nil {
			return nil, err
		}
		if stable {
			return l.rows, nil
		}
	}
	return nil, fmt.Errorf("the list kept changing while it was paged (%d passes): try the window again", maxPasses)
}

// listPass pages through the list once and reports whether totalElements
// stayed the same on every page.
func (c *Client) listPass(ctx context.Context, path string, q url.Values, l *rowSet) (stable bool, err error) {
	total := int64(-1)
	for n := range maxPages {
		q.Set("page", strconv.Itoa(n))
		raw, err := c.do(ctx, http.MethodGet, path, q, nil)
		if err != nil {
			return false, err
		}
		var p page
		if err := json.Unmarshal(raw, &p); err != nil {
			return false, &crm.StatusError{StatusCode: http.StatusOK, Message: "answer is not a page: " + c.excerpt(raw, "")}
		}
		if total >= 0 && p.TotalElements != total {
			return false, nil
		}
		total = p.TotalElements
		l.add(p.Content)
		if len(p.Content) == 0 || p.done() {
			return true, nil
		}
	}
	return false, fmt.Errorf("more than %d pages: is the updatedDate filter being ignored?", maxPages)
}

// rowSet keeps the rows of a list once each by id, the last seen copy of
// each. A row without a readable id is kept as it is: decoding it reports
// the bad field.
type rowSet struct {
	rows  []json.RawMessage
	index map[string]int
}

func (l *rowSet) add(rows []json.RawMessage) {
	for _, raw := range rows {
		var head struct {
			ID json.RawMessage `json:"id"`
		}
		_ = json.Unmarshal(raw, &head)
		id := string(bytes.TrimSpace(head.ID))
		if id == "" || id == "null" {
			l.rows = append(l.rows, raw)
			continue
		}
		if i, ok := l.index[id]; ok {
			l.rows[i] = raw
			continue
		}
		l.index[id] = len(l.rows)
		l.rows = append(l.rows, raw)
	}
}

// formatTime writes t as Tekmetric's query parameters take it.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }
