package fakeshopmonkey

import (
	"fmt"
	"maps"
	"net/http"
	"strings"

	"github.com/leadorch/lead-orchestrator/internal/sandbox/fake"
)

// ServeHTTP logs the request, then authenticates and routes it under the
// queued faults.
func (s *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	logged := s.requests.Receive(r, func(body string) Request {
		return Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Body: body}
	})
	if !logged {
		writeError(w, http.StatusBadRequest, "BAD_REQUEST", "cannot read the request body")
		return
	}
	fake.Serve(&s.FaultQueue, w, r, s.mux.ServeHTTP, writeFault)
}

// authed resolves the Bearer key to its location: 401 for a missing or
// unknown key, 403 for a forbidden one.
func (s *API) authed(h func(w http.ResponseWriter, r *http.Request, locationID string)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		key, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		s.mu.Lock()
		k, known := s.keys[strings.TrimSpace(key)]
		s.mu.Unlock()
		switch {
		case !ok || !known:
			writeError(w, http.StatusUnauthorized, "UNAUTHORIZED", "Invalid or missing API key")
		case k.forbidden:
			writeError(w, http.StatusForbidden, "FORBIDDEN", "This API key does not have permission for this operation")
		default:
			h(w, r, k.location)
		}
	}
}

func (s *API) handleGet(table Table) func(http.ResponseWriter, *http.Request, string) {
	return func(w http.ResponseWriter, r *http.Request, loc string) {
		s.mu.Lock()
		defer s.mu.Unlock()
		row, ok := s.records.Get(loc, table, r.PathValue("id"))
		if !ok {
			writeError(w, http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("%s not found", table))
			return
		}
		data := row.Data
		if table == Customer && s.embedContacts {
			data = maps.Clone(data)
			for field, t := range map[string]Table{"phoneNumbers": PhoneNumber, "emails": Email} {
				if _, planted := data[field]; planted {
					continue
				}
				list := []map[string]any{}
				for _, c := range s.contacts(t, row.Key) {
					list = append(list, c.Data)
				}
				data[field] = list
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"success": true, "data": data})
	}
}

func (s *API) handleList(table Table) func(http.ResponseWriter, *http.Request, string) {
	return func(w http.ResponseWriter, r *http.Request, loc string) {
		s.serveList(w, r, loc, table, nil)
	}
}

func (s *API) handleContactList(table Table) func(http.ResponseWriter, *http.Request, string) {
	return func(w http.ResponseWriter, r *http.Request, loc string) {
		id := r.PathValue("id")
		s.mu.Lock()
		_, ok := s.records.Get(loc, Customer, id)
		s.mu.Unlock()
		if !ok {
			writeError(w, http.StatusNotFound, "NOT_FOUND", "customer not found")
			return
		}
		s.serveList(w, r, loc, table, func(row map[string]any) bool { return row["customerId"] == id })
	}
}

// serveList answers a list call with the live API's quirks: see ShopMonkey.
func (s *API) serveList(w http.ResponseWriter, r *http.Request, loc string, table Table, scope func(map[string]any) bool) {
	q := r.URL.Query()
	for name := range q {
		if name != "orderBy" && strings.EqualFold(name, "orderBy") {
			writeError(w, http.StatusBadRequest, "BAD_REQUEST", fmt.Sprintf("unknown query parameter %q (did you mean orderBy?)", name))
			return
		}
	}
	conds, err := parseWhere(q.Get("where"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "BAD_REQUEST", "invalid where: "+err.Error())
		return
	}
	desc, err := parseOrderBy(q.Get("orderBy"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "BAD_REQUEST", "invalid orderBy: "+err.Error())
		return
	}
	limit, err := queryInt(q, "limit", 100)
	if err != nil {
		writeError(w, http.StatusBadRequest, "BAD_REQUEST", err.Error())
		return
	}
	if limit == 0 || limit > 100 {
		limit = 100 // the live API caps silently, without saying so in meta
	}
	skip, err := queryInt(q, "skip", 0)
	if err != nil {
		writeError(w, http.StatusBadRequest, "BAD_REQUEST", err.Error())
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	rows := s.records.Select(table, func(row *storedRow) bool {
		return row.Loc == loc && (scope == nil || scope(row.Data)) && matchesWhere(row.Data, conds)
	}, desc)
	total := len(rows)
	off := skip
	if s.unstableSkip && skip > 0 {
		off = max(0, skip+s.rng.IntN(11)-5)
	}
	off = min(off, total)
	end := min(off+limit, total)
	served := rows[off:end]
	if scope == nil {
		// Contact lists are spared: a customer's phone left out would
		// look like a customer without one, which no poll window repairs.
		served = s.listQuirks(served)
	}
	page := make([]map[string]any, 0, len(served))
	for _, row := range served {
		page = append(page, row.Data)
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"success": true,
		"data":    page,
		"meta":    map[string]any{"hasMore": end < total, "total": total},
	})
}
