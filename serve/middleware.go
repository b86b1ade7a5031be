package serve

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/consensus-ledger/consensus/domain"
)

// handleUnrouted answers requests no route takes with the same JSON errors
// as the API, rather than the mux's text: 405 with Allow when the path has
// routes for other methods, 404 otherwise. routed is a mux of the routes
// alone, asked for its verdict.
func (s *Server) handleUnrouted(routed *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		probe := &statusProbe{header: http.Header{}}
		routed.ServeHTTP(probe, r)
		rec := &statusRecorder{ResponseWriter: w}
		rec.Header().Set("X-Request-Id", requestID())
		if allow := probe.header.Get("Allow"); probe.status == http.StatusMethodNotAllowed {
			w.Header().Set("Allow", allow)
			s.writeError(rec, r, refuse(http.StatusMethodNotAllowed, "", "%s is not allowed on %s; use %s", domain.Quote(r.Method), domain.Quote(r.URL.Path), allow))
		} else {
			s.writeError(rec, r, refuse(http.StatusNotFound, "", "there is nothing at %s; GET /api/v1/openapi.json lists the endpoints", domain.Quote(r.URL.Path)))
		}
		s.metrics.observe("unrouted", r.Method, rec.status, time.Since(start), false)
	})
}

// wrap gives a route's handler what every request needs: a request id,
// security headers, authorisation, a JSON answer for any error, recovery
// from a panic (answered as a 500 and logged, never shown), and metrics.
func (s *Server) wrap(rt route) http.Handler {
	gates := s.gates(rt.limit)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		h := rec.Header()
		h.Set("X-Request-Id", requestID())
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				err := fmt.Errorf("panic: %v", v)
				if rec.status == 0 {
					s.writeError(rec, r, err)
				} else {
					s.log.Error("panic after the answer began", "path", r.URL.Path, "error", err)
				}
			}
			s.metrics.observe(rt.path, r.Method, rec.statusOr200(), time.Since(start), rt.streamed)
		}()
		var c call
		var err error
		c.who, err = s.authorize(r, rt.access)
		if err == nil {
			c.values, err = parseQuery(r.URL.RawQuery)
		}
		if err == nil && !rt.page {
			err = checkQuery(c.values, rt.query...)
		}
		if err == nil {
			err = s.admit(r.Context(), gates, func() error { return rt.handle(rec, r, c) })
		}
		if err != nil && rec.status == 0 {
			s.writeError(rec, r, err)
		}
	})
}

// admit runs handle once every gate has let the request in, and lets them
// go after it returns; a gate that refuses answers for the request.
func (s *Server) admit(ctx context.Context, gates []*gate, handle func() error) error {
	if len(gates) == 0 {
		return handle()
	}
	if err := gates[0].enter(ctx); err != nil {
		return err
	}
	defer gates[0].leave()
	return s.admit(ctx, gates[1:], handle)
}

// requestIDs are the process's random prefix and a counter: unique enough
// to find a request in the log, and cheaper than a UUID per request. The
// prefix is drawn on the first request, not at package init: reading the
// system's randomness there cost every consensus command, serve or not,
// 0.1 to several milliseconds at start-up (issue 17).
var (
	requestPrefix = sync.OnceValue(func() string { return uuid.New().String()[:8] })
	requestCount  atomic.Uint64
)

// requestID names a request in logs and in its X-Request-Id header.
func requestID() string {
	return requestPrefix() + "-" + strconv.FormatUint(requestCount.Add(1), 10)
}

// statusRecorder remembers the status a handler answered with. It unwraps
// to the connection's writer, so http.ResponseController can flush an event
// stream and change its deadlines.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *statusRecorder) statusOr200() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}

// statusProbe captures the mux's answer to an unrouted request.
type statusProbe struct {
	header http.Header
	status int
}

func (p *statusProbe) Header() http.Header         { return p.header }
func (p *statusProbe) Write(b []byte) (int, error) { return len(b), nil }
func (p *statusProbe) WriteHeader(code int)        { p.status = code }
