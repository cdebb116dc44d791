package shopmonkey

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"time"
)

const (
	// pageLimit is the most rows the live API returns per call, whatever
	// limit asks for.
	pageLimit = 100
	// minWindow is the narrowest window worth splitting. Below it (a bulk
	// import stamping many rows in the same second) listing falls back to
	// skip paging.
	minWindow = time.Second
	// maxListCalls bounds the list calls of one poll per record kind, so
	// that an API ignoring the date filter cannot make a poll split its
	// window into thousands of calls and eat the key's rate limit.
	maxListCalls = 500
	// maxShortRetries bounds how often an exact lister asks again for a
	// window that held fewer distinct rows than meta.total.
	maxShortRetries = 5
	// maxSkipPasses and maxSkipPages bound the skip-paging fallback.
	maxSkipPasses = 10
	maxSkipPages  = 50
)

// windowLister lists every row of one path whose field (updatedDate for
// polls, startDate for the calendar) falls in a window. The live
// API caps pages at 100 and returns shifting pages when paged with skip, so
// a window that comes back full is split in two halves instead of paged;
// only a window narrower than minWindow is paged, repeatedly, until it has
// seen as many distinct rows as meta.total says there are.
type windowLister struct {
	adapter *Adapter
	path    string
	filter  map[string]any
	// field is the time field the window bounds.
	field string
	// exact makes a window that came back short while meta.total counts
	// more distinct rows than it held be asked again (up to
	// maxShortRetries times): a calendar listing must not miss a booking,
	// while a poll's overlapping windows find a left-out row later anyway.
	exact bool
	calls int
	seen  map[string]bool
	rows  []json.RawMessage
}

// listUpdated returns the rows of path matching filter updated in
// [since, until), each once.
func (a *Adapter) listUpdated(ctx context.Context, path string, filter map[string]any, since, until time.Time) ([]json.RawMessage, error) {
	l := &windowLister{adapter: a, path: path, filter: filter, field: "updatedDate", seen: map[string]bool{}}
	if err := l.list(ctx, since, until); err != nil {
		return nil, err
	}
	return l.rows, nil
}

func (l *windowLister) list(ctx context.Context, since, until time.Time) error {
	rows, meta, err := l.call(ctx, since, until, 0)
	if err != nil {
		return err
	}
	if len(rows) < pageLimit && !meta.HasMore {
		if l.exact {
			return l.short(ctx, since, until, rows, meta)
		}
		l.add(rows)
		return nil
	}
	if until.Sub(since) <= minWindow {
		return l.listBySkip(ctx, since, until, rows, meta)
	}
	mid := since.Add(until.Sub(since) / 2)
	if err := l.list(ctx, since, mid); err != nil {
		return err
	}
	return l.list(ctx, mid, until)
}

// listBySkip pages a narrow window with skip. Pages may shift between calls,
// so it makes whole passes until the distinct rows reach meta.total.
func (l *windowLister) listBySkip(ctx context.Context, since, until time.Time, first []json.RawMessage, meta listMeta) error {
	window := map[string]bool{}
	count := func(rows []json.RawMessage) {
		for _, id := range l.add(rows) {
			window[id] = true
		}
	}
	count(first)
	total := -1
	if meta.Total != nil {
		total = *meta.Total
	}
	for pass := range maxSkipPasses {
		start := 0
		if pass == 0 {
			start = pageLimit // the first page is already in
		}
		for skip := start; skip < maxSkipPages*pageLimit; skip += pageLimit {
			rows, meta, err := l.call(ctx, since, until, skip)
			if err != nil {
				return err
			}
			count(rows)
			if meta.Total != nil {
				total = *meta.Total
			}
			if len(rows) == 0 || (len(rows) < pageLimit && !meta.HasMore) {
				break
			}
		}
		if total < 0 || len(window) >= total {
			return nil
		}
	}
	return fmt.Errorf("skip paging of [%s, %s) found %d of %d rows after %d passes",
		formatTime(since), formatTime(until), len(window), total, maxSkipPasses)
}

// short keeps the rows of a window that came back in one page, asking
// again while they are fewer distinct rows than meta.total says the window
// holds (the live API sometimes leaves one out of a page).
func (l *windowLister) short(ctx context.Context, since, until time.Time, rows []json.RawMessage, meta listMeta) error {
	window := map[string]bool{}
	for try := 0; ; try++ {
		for _, id := range l.add(rows) {
			window[id] = true
		}
		if meta.Total == nil || len(window) >= *meta.Total {
			return nil
		}
		if try == maxShortRetries {
			return fmt.Errorf("[%s, %s) held %d of the %d rows meta.total counts after %d tries",
				formatTime(since), formatTime(until), len(window), *meta.Total, try+1)
		}
		var err error
		if rows, meta, err = l.call(ctx, since, until, 0); err != nil {
			return err
		}
	}
}

// call lists one page of the window with bare operators: the live API
// silently ignores Mongo-style "$gte".
func (l *windowLister) call(ctx context.Context, since, until time.Time, skip int) ([]json.RawMessage, listMeta, error) {
	l.calls++
	if l.calls > maxListCalls {
		return nil, listMeta{}, fmt.Errorf("more than %d list calls for one listing: is the %s filter being ignored?", maxListCalls, l.field)
	}
	where := maps.Clone(l.filter)
	if where == nil {
		where = map[string]any{}
	}
	where["locationId"] = l.adapter.locationID
	where[l.field] = map[string]string{"gte": formatTime(since), "lt": formatTime(until)}
	return l.adapter.list(ctx, l.path, where, skip)
}

// add keeps the rows not seen before and returns the ids of all of them.
// A row without a readable id is kept: decoding it reports the bad field.
func (l *windowLister) add(rows []json.RawMessage) []string {
	ids := make([]string, 0, len(rows))
	for _, raw := range rows {
		var head struct {
			ID any `json:"id"`
		}
		_ = json.Unmarshal(raw, &head)
		id, ok := head.ID.(string)
		if !ok || id == "" {
			l.rows = append(l.rows, raw)
			continue
		}
		ids = append(ids, id)
		if !l.seen[id] {
			l.seen[id] = true
			l.rows = append(l.rows, raw)
		}
	}
	return ids
}

func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
