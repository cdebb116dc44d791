package sandbox_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/leadorch/lead-orchestrator/internal/sandbox"
)

// TestBookFirstSlot plays the scripted customer against a page shaped as
// html/template writes one: it must send the page's cookie and hidden
// fields, the first open time (not a disabled one), a same-origin Origin,
// and follow the redirect and the page's refresh to the final answer.
func TestBookFirstSlot(t *testing.T) {
	var polls atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("GET /book/tok", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "csrf", Value: "c1", Path: "/"})
		fmt.Fprint(w, `<!doctype html><h1>Book a time at Demo &amp; Sons</h1>
<form method="post" action="/book/tok"><input type="hidden" name="csrf" value="c1"><input type="hidden" name="key" value="k1">
<fieldset><legend>Tue</legend><input type="radio" name="start" id="s0" value="2026-12-08T09:00:00Z" disabled><label for="s0">9:00 AM</label>
<input type="radio" name="start" id="s1" value="2026-12-08T10:00:00Z"><label for="s1">10:00 AM</label></fieldset>
<button type="submit" name="action" value="book">Book this time</button></form>`)
	})
	mux.HandleFunc("POST /book/tok", func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("csrf")
		if err != nil || c.Value != r.FormValue("csrf") || r.Header.Get("Origin") != "http://"+r.Host ||
			r.FormValue("key") != "k1" || r.FormValue("action") != "book" || r.FormValue("start") != "2026-12-08T10:00:00Z" {
			http.Error(w, "bad form: "+r.Form.Encode(), http.StatusBadRequest)
			return
		}
		http.Redirect(w, r, "/book/tok/b/1", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /book/tok/b/1", func(w http.ResponseWriter, r *http.Request) {
		if polls.Add(1) < 3 {
			fmt.Fprint(w, `<meta http-equiv="refresh" content="0"><h1>Booking...</h1>`)
			return
		}
		fmt.Fprint(w, `<h1>Booked</h1><p>Tue Dec 8, 10:00 AM</p>`)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	var seen []string
	v, slot, err := sandbox.BookFirstSlot(t.Context(), srv.URL+"/book/tok", func(h string) { seen = append(seen, h) })
	require.NoError(t, err)
	require.Equal(t, "10:00 AM", slot)
	require.Equal(t, http.StatusOK, v.Status)
	require.Equal(t, "Booked", v.Heading)
	require.Contains(t, v.Text, "Dec 8, 10:00 AM")
	require.Equal(t, []string{"Book a time at Demo & Sons", "Booking...", "Booked"}, seen)
	require.EqualValues(t, 3, polls.Load())
}
