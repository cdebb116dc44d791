package faketekmetric

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
)

// ServeHTTP logs the request, then authenticates and routes it under the
// queued faults.
func (s *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// At is the wall clock, not the fake's settable one: rate limits are
	// measured in real time.
	if !s.requests.Receive(r, func(body string) Request {
		return Request{At: time.Now(), Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Body: body}
	}) {
		writeError(w, http.StatusBadRequest, "Cannot read the request body")
		return
	}
	fake.Serve(&s.FaultQueue, w, r, s.mux.ServeHTTP, writeFault)
}

func (s *API) handleGet(table Table) func(http.ResponseWriter, *http.Request, *application) {
	return func(w http.ResponseWriter, r *http.Request, c *application) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("Failed to convert value %q to required type 'java.lang.Long'", r.PathValue("id")))
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		row, ok := s.records.Lookup(table, id)
		switch {
		case !ok:
			writeError(w, http.StatusNotFound, noun(table)+" not found")
		case !c.shops[row.Loc]:
			scopeError(w, c)
		default:
			writeJSON(w, http.StatusOK, row.Data)
		}
	}
}

func (s *API) handleList(table Table) func(http.ResponseWriter, *http.Request, *application) {
	return func(w http.ResponseWriter, r *http.Request, c *application) {
		lq, err := s.readListQuery(r, table, c)
		switch {
		case errors.Is(err, errScope):
			scopeError(w, c)
			return
		case err != nil:
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		rows := s.records.Select(table, func(row *storedRow) bool { return lq.matches(table, row, s.shops[row.Loc]) }, lq.descending)
		total := len(rows)
		from := min(lq.page*lq.size, total)
		to := min(from+lq.size, total)
		content := make([]map[string]any, 0, to-from)
		for _, row := range rows[from:to] {
			content = append(content, row.Data)
		}
		totalPages := (total + lq.size - 1) / lq.size
		sort := map[string]any{"sorted": true, "unsorted": false, "empty": false}
		writeJSON(w, http.StatusOK, map[string]any{
			"content": content,
			"pageable": map[string]any{
				"sort": sort, "offset": from, "pageSize": lq.size, "pageNumber": lq.page, "paged": true, "unpaged": false,
			},
			"totalPages":       totalPages,
			"totalElements":    total,
			"last":             lq.page >= totalPages-1,
			"size":             lq.size,
			"number":           lq.page,
			"first":            lq.page == 0,
			"sort":             sort,
			"numberOfElements": len(content),
			"empty":            len(content) == 0,
		})
	}
}

// noun names a record of table as Tekmetric's errors do.
func noun(table Table) string {
	switch table {
	case RepairOrders:
		return "Repair order"
	case Appointments:
		return "Appointment"
	case Customers:
		return "Customer"
	}
	return "Vehicle"
}
