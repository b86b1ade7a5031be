package serve

import (
	"bytes"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/consensus-ledger/consensus/ledger"
	"github.com/consensus-ledger/consensus/serve/exposition"
)

// metrics are what GET /metrics exposes, in Prometheus's text format. Each
// server has its own registry, so tests can run many servers in a process.
type metrics struct {
	registry       *exposition.Registry
	requests       *exposition.CounterVec
	latency        *exposition.HistogramVec
	eventsAppended *exposition.CounterVec
	storeErrors    *exposition.CounterVec
	streamClients  *exposition.Gauge
}

func newMetrics() *metrics {
	r := &exposition.Registry{}
	m := &metrics{
		registry: r,
		requests: r.NewCounterVec(exposition.Opts{
			Name: "consensus_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status code.",
		}, "route", "method", "code"),
		latency: r.NewHistogramVec(exposition.Opts{
			Name: "consensus_http_request_duration_seconds",
			Help: "Time from a request's arrival to the end of its answer, by route pattern (event streams excluded).",
		},
			// From 100 µs (a cached consensus) to 30 s (a large import).
			[]float64{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30},
			"route"),
		eventsAppended: r.NewCounterVec(exposition.Opts{
			Name: "consensus_events_appended_total",
			Help: "Events this server appended to the store, by endpoint (events or import).",
		}, "via"),
		storeErrors: r.NewCounterVec(exposition.Opts{
			Name: "consensus_store_errors_total",
			Help: "Failed operations on the store: reads and writes of requests, following the store for the event stream, and chain verification.",
		}, "op"),
		streamClients: r.NewGauge(exposition.Opts{
			Name: "consensus_event_stream_clients",
			Help: "Clients connected to GET /api/v1/events/stream.",
		}),
	}
	r.RegisterGo()
	r.RegisterProcess()
	// Every series exists from the start, so a rate() over a fresh server
	// reads 0 rather than nothing.
	for _, via := range []string{"events", "import"} {
		m.eventsAppended.WithLabelValues(via)
	}
	for _, op := range []string{"read", "write", "follow", "verify"} {
		m.storeErrors.WithLabelValues(op)
	}
	return m
}

// watchCache exposes the size of the ledger's cache of instruments and of
// the server's answer cache, read at each scrape: an operator sizing
// serve --max-cached-events and --max-cache-bytes wants to see how full
// they are and how often entries are let go.
func (m *metrics) watchCache(c *answerCache, l *ledger.Ledger) {
	bound := func(n float64) float64 {
		if n < 0 {
			return math.Inf(1)
		}
		return n
	}
	m.registry.NewGaugeFunc(exposition.Opts{
		Name: "consensus_cache_instruments",
		Help: "Instruments the ledger keeps loaded with their read models.",
	}, func() float64 { return float64(l.CacheStats().Streams) })
	m.registry.NewGaugeFunc(exposition.Opts{
		Name: "consensus_cache_events",
		Help: "Events of the instruments the ledger keeps loaded, bounded by consensus_cache_max_events.",
	}, func() float64 { return float64(l.CacheStats().Events) })
	m.registry.NewGaugeFunc(exposition.Opts{
		Name: "consensus_cache_max_events",
		Help: "The bound on consensus_cache_events (serve --max-cached-events); +Inf when there is none.",
	}, func() float64 { return bound(float64(l.CacheStats().MaxEvents)) })
	m.registry.NewGaugeFunc(exposition.Opts{
		Name: "consensus_cache_bytes",
		Help: "What the instruments the ledger keeps loaded are counted as, in bytes, bounded by consensus_cache_max_bytes.",
	}, func() float64 { return float64(l.CacheStats().Bytes) })
	m.registry.NewGaugeFunc(exposition.Opts{
		Name: "consensus_cache_max_bytes",
		Help: "The bound on consensus_cache_bytes; +Inf when there is none.",
	}, func() float64 { return bound(float64(l.CacheStats().MaxBytes)) })
	m.registry.NewCounterFunc(exposition.Opts{
		Name: "consensus_cache_evictions_total",
		Help: "Instruments let go to keep the loaded events within the bounds; each is read from the store again when next asked about.",
	}, func() float64 { return float64(l.CacheStats().Evictions) })
	m.registry.NewGaugeFunc(exposition.Opts{
		Name: "consensus_answer_cache_answers",
		Help: "Encoded answers the server keeps between requests.",
	}, func() float64 { n, _ := c.answerSize(); return float64(n) })
	m.registry.NewGaugeFunc(exposition.Opts{
		Name: "consensus_answer_cache_bytes",
		Help: "Bytes of the encoded answers kept, each counted as its encoded bytes and key, bounded by consensus_answer_cache_max_bytes.",
	}, func() float64 { _, n := c.answerSize(); return float64(n) })
	m.registry.NewGaugeFunc(exposition.Opts{
		Name: "consensus_answer_cache_max_bytes",
		Help: "The bound on consensus_answer_cache_bytes (serve --max-cache-bytes).",
	}, func() float64 { return float64(c.answers.maxBytes) })
	m.registry.NewCounterFunc(exposition.Opts{
		Name: "consensus_answer_cache_evictions_total",
		Help: "Answers let go, least recently used first, to keep the answer cache within its bound.",
	}, func() float64 { return float64(c.answers.evictions.Load()) })
}

// watchGates exposes how many requests each gate admits now, its limit and
// how many it refused, so an operator sees a server at its limits.
func (m *metrics) watchGates(expensive, imports, streams *gate) {
	m.registry.NewGaugeFunc(exposition.Opts{
		Name: "consensus_expensive_requests",
		Help: "Expensive requests (histories, charts, logs, lists of every instrument, imports) running now.",
	}, func() float64 { return float64(expensive.inUse()) })
	m.registry.NewGaugeFunc(exposition.Opts{
		Name: "consensus_expensive_max_requests",
		Help: "The bound on consensus_expensive_requests (serve --max-expensive).",
	}, func() float64 { return float64(expensive.limit()) })
	m.registry.NewCounterFunc(exposition.Opts{
		Name: "consensus_expensive_refused_total",
		Help: "Expensive requests refused with 503 because serve --max-expensive of them were running.",
	}, func() float64 { return float64(expensive.refused.Load()) })
	m.registry.NewCounterFunc(exposition.Opts{
		Name: "consensus_import_refused_total",
		Help: "Imports refused with 503 because another import was running.",
	}, func() float64 { return float64(imports.refused.Load()) })
	m.registry.NewGaugeFunc(exposition.Opts{
		Name: "consensus_event_stream_max_clients",
		Help: "The bound on consensus_event_stream_clients (serve --max-streams).",
	}, func() float64 { return float64(streams.limit()) })
	m.registry.NewCounterFunc(exposition.Opts{
		Name: "consensus_event_stream_refused_total",
		Help: "Event-stream clients refused with 503 because serve --max-streams were connected.",
	}, func() float64 { return float64(streams.refused.Load()) })
}

// observe counts one answered request.
func (m *metrics) observe(route, method string, code int, took time.Duration, streamed bool) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(code)).Inc()
	if !streamed {
		m.latency.WithLabelValues(route).Observe(took.Seconds())
	}
}

// serveHTTP answers a scrape in Prometheus's text format, compressed when
// the client accepts it, as promhttp did. Only the text format is offered:
// a scraper that prefers protobuf reads the Content-Type and parses text.
func (m *metrics) serveHTTP(w http.ResponseWriter, r *http.Request) {
	var b bytes.Buffer
	m.registry.WriteText(&b)
	writeCompressible(w, r, http.StatusOK, exposition.ContentType, b.Bytes())
}
