package serve

import (
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
	aw := newAnswerWriter(w, r, status, contentType)
	_, _ = aw.Write(body) // a client that went away is not an error of ours
	_ = aw.Close()
}

// answerWriter writes an answer's body as it is produced, gzip-compressed
// under writeCompressible's rule, so a large answer (a 50,000-row history)
// is never held whole in memory: it holds back the first minCompressBytes
// until it knows whether the body reaches them. Close ends the answer.
type answerWriter struct {
	w           http.ResponseWriter
	status      int
	contentType string
	gzipOK      bool
	held        []byte       // the body so far, until started
	started     bool         // the header is written
	zw          *gzip.Writer // compressing, once started with gzip
}

func newAnswerWriter(w http.ResponseWriter, r *http.Request, status int, contentType string) *answerWriter {
	w.Header().Add("Vary", "Accept-Encoding")
	return &answerWriter{w: w, status: status, contentType: contentType, gzipOK: acceptsGzip(r)}
}

func (a *answerWriter) Write(p []byte) (int, error) {
	switch {
	case a.zw != nil:
		return a.zw.Write(p)
	case a.started:
		return a.w.Write(p)
	case len(a.held)+len(p) < minCompressBytes:
		a.held = append(a.held, p...)
		return len(p), nil
	}
	a.start(a.gzipOK)
	if _, err := a.Write(a.held); err != nil {
		return 0, err
	}
	a.held = nil
	return a.Write(p)
}

// start writes the header, choosing compression for good.
func (a *answerWriter) start(compress bool) {
	h := a.w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", "no-store")
	if compress {
		h.Set("Content-Encoding", "gzip")
	}
	a.w.WriteHeader(a.status)
	a.started = true
	if compress {
		a.zw, _ = gzip.NewWriterLevel(a.w, gzip.BestSpeed) // a valid level cannot fail
	}
}

// Close sends what is held back (a short body, uncompressed) or ends the
// compressed stream.
func (a *answerWriter) Close() error {
	switch {
	case a.zw != nil:
		return a.zw.Close()
	case !a.started:
		writeBody(a.w, a.status, a.contentType, a.held)
	}
	return nil
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
