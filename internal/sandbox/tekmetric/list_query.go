package faketekmetric

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
)

// listQuery is a list call's filters, read and checked.
type listQuery struct {
	page, size       int
	shops            map[int64]bool
	loc              *time.Location
	updatedFrom      time.Time
	updatedTo        time.Time
	deletedFrom      time.Time
	deletedTo        time.Time
	byDeleted        bool
	includeDeleted   bool
	statuses         []int64
	customerID       int64
	descending       bool
	hasUpdatedFilter bool
	// startFrom and startTo are an appointment list's start and end
	// parameters. What they bound is not documented (our reference lists
	// only GET /api/v1/appointments); the fake assumes the appointment's
	// startTime, both ends included as in Tekmetric's other date filters,
	// read like them: a date-time, in the shop's zone when it has no
	// offset, or a date. An appointment that began before start and still
	// runs is then not listed, which is why the adapter widens start.
	startFrom time.Time
	startTo   time.Time
}

// readListQuery checks a list call's parameters; an error is a 400, and a
// shop outside the token's scope is errScope.
func (s *API) readListQuery(r *http.Request, table Table, c *application) (listQuery, error) {
	q := r.URL.Query()
	lq := listQuery{size: 10, shops: c.shops, loc: time.UTC, includeDeleted: true}
	var err error
	intParam := func(name string, dst *int) {
		if v := q.Get(name); v != "" && err == nil {
			n, e := strconv.Atoi(v)
			if e != nil || n < 0 {
				err = fmt.Errorf("%s must be a non-negative integer, got %q", name, v)
			}
			*dst = n
		}
	}
	intParam("page", &lq.page)
	intParam("size", &lq.size)
	if err != nil {
		return lq, err
	}
	if lq.size == 0 {
		lq.size = 10
	}
	lq.size = min(lq.size, 100) // capped without a word, as Tekmetric does
	if v := q.Get("shop"); v != "" {
		shop, e := strconv.ParseInt(v, 10, 64)
		if e != nil {
			return lq, fmt.Errorf("shop must be an integer, got %q", v)
		}
		if !c.shops[shop] {
			return lq, errScope
		}
		lq.shops = map[int64]bool{shop: true}
		s.mu.Lock()
		lq.loc = s.shops[shop]
		s.mu.Unlock()
	}
	date := func(name string, dst *time.Time) {
		if v := q.Get(name); v != "" && err == nil {
			t, e := parseQueryTime(v, lq.loc)
			if e != nil {
				err = fmt.Errorf("%s: cannot read %q as a date", name, v)
			}
			*dst = t
		}
	}
	date("updatedDateStart", &lq.updatedFrom)
	date("updatedDateEnd", &lq.updatedTo)
	date("deletedDateStart", &lq.deletedFrom)
	date("deletedDateEnd", &lq.deletedTo)
	if table == Appointments {
		date("start", &lq.startFrom)
		date("end", &lq.startTo)
	}
	if err != nil {
		return lq, err
	}
	lq.hasUpdatedFilter = q.Has("updatedDateStart") || q.Has("updatedDateEnd")
	lq.byDeleted = q.Has("deletedDateStart") || q.Has("deletedDateEnd")
	if v := q.Get("includeDeleted"); v != "" && table == Appointments {
		b, e := strconv.ParseBool(v)
		if e != nil {
			return lq, fmt.Errorf("includeDeleted must be true or false, got %q", v)
		}
		lq.includeDeleted = b
	}
	if lq.statuses, err = readStatuses(q["repairOrderStatusId"]); err != nil {
		return lq, err
	}
	if v := q.Get("customerId"); v != "" {
		if lq.customerID, err = strconv.ParseInt(v, 10, 64); err != nil {
			return lq, fmt.Errorf("customerId must be an integer, got %q", v)
		}
	}
	lq.descending = strings.EqualFold(q.Get("sortDirection"), "DESC")
	return lq, nil
}

// readStatuses reads repairOrderStatusId, repeated or comma-separated.
func readStatuses(values []string) ([]int64, error) {
	var out []int64
	for _, v := range values {
		for part := range strings.SplitSeq(v, ",") {
			n, err := strconv.ParseInt(strings.TrimSpace(part), 10, 64)
			if err != nil {
				return nil, fmt.Errorf("repairOrderStatusId must be integers, got %q", v)
			}
			out = append(out, n)
		}
	}
	return out, nil
}

// errScope is what readListQuery returns for a shop outside the scope.
var errScope = errors.New("shop outside the token's scope")

// matches reports whether row passes the list's filters, with the
// deleted-date quirk: any deletedDate filter turns the list into one of
// deleted records and drops the updatedDate filter.
func (lq listQuery) matches(table Table, row *storedRow, loc *time.Location) bool {
	if !lq.shops[row.Loc] {
		return false
	}
	deleted, _ := parseTime(fake.String(row.Data["deletedDate"]), loc)
	switch {
	case lq.byDeleted:
		if deleted.IsZero() || !inRange(deleted, lq.deletedFrom, lq.deletedTo) {
			return false
		}
	case !deleted.IsZero() && (table == RepairOrders || !lq.includeDeleted):
		return false
	case lq.hasUpdatedFilter:
		updated, err := parseTime(fake.String(row.Data["updatedDate"]), loc)
		if err != nil || !inRange(updated, lq.updatedFrom, lq.updatedTo) {
			return false
		}
	}
	if table == Appointments && (!lq.startFrom.IsZero() || !lq.startTo.IsZero()) {
		// A planted startTime that is not a time is listed, not dropped:
		// Tekmetric cannot hold one, so it is there to reach the adapter.
		start, err := parseTime(fake.String(row.Data["startTime"]), loc)
		if err == nil && !inRange(start, lq.startFrom, lq.startTo) {
			return false
		}
	}
	if len(lq.statuses) > 0 {
		status, _ := row.Data["repairOrderStatus"].(map[string]any)
		if !slices.Contains(lq.statuses, fake.Int64(status["id"])) {
			return false
		}
	}
	return lq.customerID == 0 || fake.Int64(row.Data["customerId"]) == lq.customerID
}
