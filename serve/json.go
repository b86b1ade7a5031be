package serve

import (
	"encoding/json"
	"net/http"
)

// writeJSON answers with v as JSON. The shapes are those of the command
// line's --json output, written compactly.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		// Every value written here is made of plain fields and the
		// projections' Decimals, which always encode; this is a bug.
		writeBody(w, http.StatusInternalServerError, "application/json; charset=utf-8",
			[]byte(`{"error":"internal error: the answer could not be encoded.","field":null}`+"\n"))
		return
	}
	writeBody(w, status, "application/json; charset=utf-8", append(body, '\n'))
}

// writeBody answers with an already encoded body.
func writeBody(w http.ResponseWriter, status int, contentType string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(body) // a client that went away is not an error of ours
}
