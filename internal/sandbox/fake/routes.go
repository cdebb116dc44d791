package fake

import "net/http"

// HandleRecords registers a CRM's two read routes of one table on mux:
// GET path lists its records and GET path/{id} reads one. Both CRM fakes
// serve their lead tables this way.
func HandleRecords(mux *http.ServeMux, path string, list, get http.HandlerFunc) {
	mux.HandleFunc("GET "+path, list)
	mux.HandleFunc("GET "+path+"/{id}", get)
}
