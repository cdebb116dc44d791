package httpapi

import (
	"errors"
	"io"
	"net/http"
)

// readBody reads at most limit bytes of a webhook's body, answering 413
// (with tooBig as the error) or 400 itself when it cannot. Signatures
// cover the raw bytes, so a webhook's body is read whole before anything
// decodes it.
func readBody(w http.ResponseWriter, r *http.Request, limit int64, tooBig string) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var maxErr *http.MaxBytesError
	switch {
	case errors.As(err, &maxErr):
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": tooBig})
		return nil, false
	case err != nil:
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "error reading body"})
		return nil, false
	}
	return body, true
}
