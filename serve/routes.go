package serve

import "net/http"

// route is one endpoint: the table below is the server's whole surface,
// registered on the mux and checked against the OpenAPI document by a test.
type route struct {
	method string
	path   string   // net/http pattern syntax: /api/v1/instruments/{symbol}
	query  []string // the query parameters it takes; any other is refused
	access access
	handle func(w http.ResponseWriter, r *http.Request, c call) error
	// streamed routes keep the connection open: their latency is not
	// measured, and the server's write timeout does not apply.
	streamed bool
	// page routes are read by the page's script, which ignores parameters
	// it does not know, so a link with extra ones still opens the page.
	page bool
	// limit bounds how many of the route's requests run at once: those
	// whose cost grows with the request, and event streams. Single
	// answers, writes of a batch (bounded by MaxEventRows) and the health
	// check have none, so the expensive ones never hold them back.
	limit limit
}

// limit is which gates admit a route's requests (see newGates).
type limit int

const (
	noLimit        limit = iota
	expensiveLimit       // Server.expensive
	importLimit          // Server.imports, then Server.expensive
	streamLimit          // Server.streams
)

// gates are the gates a route's requests pass, in order.
func (s *Server) gates(l limit) []*gate {
	switch l {
	case expensiveLimit:
		return []*gate{s.expensive}
	case importLimit:
		return []*gate{s.imports, s.expensive}
	case streamLimit:
		return []*gate{s.streams}
	}
	return nil
}

func (rt route) pattern() string { return rt.method + " " + rt.path }

// routes is every endpoint of the server.
func (s *Server) routes() []route {
	return []route{
		{method: "GET", path: "/api/v1/instruments", access: readAccess, handle: s.getInstruments, limit: expensiveLimit},
		{method: "GET", path: "/api/v1/consensus", query: []string{"as_of", "known_at", "window", "top", "adjusted"},
			access: readAccess, handle: s.getAllConsensus, limit: expensiveLimit},
		{method: "GET", path: "/api/v1/instruments/{symbol}/consensus", query: []string{"as_of", "known_at", "window", "explain", "top", "adjusted"},
			access: readAccess, handle: s.getConsensus},
		{method: "GET", path: "/api/v1/instruments/{symbol}/history", query: []string{"from", "to", "every", "known_at", "window", "top", "first_published", "adjusted", "basis"},
			access: readAccess, handle: s.getHistory, limit: expensiveLimit},
		{method: "GET", path: "/api/v1/instruments/{symbol}/diff", query: []string{"from_known", "to_known", "from", "to", "every", "window"},
			access: readAccess, handle: s.getDiff, limit: expensiveLimit},
		{method: "GET", path: "/api/v1/instruments/{symbol}/events", query: []string{"known_at"}, access: readAccess,
			handle: s.getEvents, limit: expensiveLimit},
		{method: "GET", path: "/api/v1/instruments/{symbol}/chart.svg",
			query:  []string{"from", "to", "every", "known_at", "window", "top", "first_published", "adjusted", "basis", "panel", "width", "height"},
			access: readAccess, handle: s.getChart, limit: expensiveLimit},
		{method: "GET", path: "/api/v1/actions", query: []string{"from", "to", "known_at", "limit"},
			access: readAccess, handle: s.getActions, limit: expensiveLimit},
		{method: "GET", path: "/api/v1/analysts", query: []string{"as_of", "known_at", "rank", "min_closed", "firm"},
			access: readAccess, handle: s.getAnalysts, limit: expensiveLimit},
		{method: "GET", path: "/api/v1/analysts/{id}", query: []string{"as_of", "known_at"},
			access: readAccess, handle: s.getAnalyst, limit: expensiveLimit},
		{method: "GET", path: "/api/v1/firms", query: []string{"known_at"}, access: readAccess, handle: s.getFirms, limit: expensiveLimit},
		{method: "GET", path: "/api/v1/firms/{firm}/disclosures", query: []string{"as_of", "known_at", "window", "months", "format"},
			access: readAccess, handle: s.getDisclosures, limit: expensiveLimit},
		{method: "POST", path: "/api/v1/events", access: writeAccess, handle: s.postEvents},
		{method: "POST", path: "/api/v1/import", query: []string{"dry_run", "name"}, access: writeAccess, handle: s.postImport, limit: importLimit},
		{method: "GET", path: "/api/v1/events/stream", query: []string{"instrument"}, access: readAccess,
			handle: s.getEventStream, streamed: true, limit: streamLimit},
		{method: "GET", path: "/api/v1/openapi.json", access: public, handle: s.getOpenAPI},
		{method: "GET", path: "/healthz", access: statusAccess, handle: s.getHealth},
		{method: "GET", path: "/metrics", access: readAccess, handle: s.getMetrics},
		{method: "GET", path: "/{$}", query: []string{"as_of", "known_at"}, page: true, access: public, handle: s.getPage},
		{method: "GET", path: "/instruments/{symbol}", query: []string{"as_of", "known_at", "range", "adjusted", "top"}, page: true,
			access: public, handle: s.getPage},
		{method: "GET", path: "/analysts", query: []string{"as_of", "known_at", "rank", "min_closed", "firm"}, page: true,
			access: public, handle: s.getPage},
		{method: "GET", path: "/analysts/{id}", query: []string{"as_of", "known_at"}, page: true,
			access: public, handle: s.getPage},
		{method: "GET", path: "/firms/{firm}", query: []string{"as_of", "known_at", "months", "window"}, page: true,
			access: public, handle: s.getPage},
		{method: "GET", path: "/assets/{name}", access: public, handle: s.getAsset},
	}
}
