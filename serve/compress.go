package serve

import (
	"bytes"
	"compress/gzip"
	"net/http"
	"strings"
)

// minCompressBytes is the smallest body worth compressing: below it gzip's
// own header and the work cost more than they save.
const minCompressBytes = 1024

// writeCompressible answers with body, gzip-compressed when the client
// accepts it and the body is large enough to gain: histories, logs and
// charts shrink several times, which keeps the web page's first load small.
func writeCompressible(w http.ResponseWriter, r *http.Request, status int, contentType string, body []byte) {
	w.Header().Add("Vary", "Accept-Encoding")
	if len(body) < minCompressBytes || !acceptsGzip(r) {
		writeBody(w, status, contentType, body)
		return
	}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestSpeed) // a valid level cannot fail
	_, _ = zw.Write(body)                              // writes to memory cannot fail
	_ = zw.Close()
	w.Header().Set("Content-Encoding", "gzip")
	writeBody(w, status, contentType, buf.Bytes())
}

// acceptsGzip reads the Accept-Encoding header: gzip (or *) listed without
// q=0.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		name, q, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "gzip" && name != "*" {
			continue
		}
		q = strings.ReplaceAll(strings.ToLower(q), " ", "")
		return q != "q=0" && q != "q=0.0" && q != "q=0.00" && q != "q=0.000"
	}
	return false
}
