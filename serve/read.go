package serve

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"runtime"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/consensus-ledger/consensus/chart"
	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/ledger"
	"github.com/consensus-ledger/consensus/projections"
)

// instrumentJSON is one instrument as `instruments --json` prints it.
type instrumentJSON struct {
	Instrument     string `json:"instrument"`
	Currency       string `json:"currency"`
	Events         int64  `json:"events"`
	LastRecordedAt string `json:"last_recorded_at"`
}

// getInstruments is `instruments --json`.
func (s *Server) getInstruments(w http.ResponseWriter, r *http.Request, c call) error {
	list, err := s.l.Instruments(r.Context())
	if err != nil {
		return err
	}
	out := make([]instrumentJSON, len(list))
	for i, in := range list {
		out[i] = instrumentJSON{string(in.Symbol), string(in.Currency), in.Events, domain.FormatTime(in.LastRecordedAt)}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// getAllConsensus is `show --all --json`: every instrument at one time.
func (s *Server) getAllConsensus(w http.ResponseWriter, r *http.Request, c call) error {
	pt, err := parsePoint(c, s.now())
	if err != nil {
		return err
	}
	if err := s.withTop(r, c, &pt); err != nil {
		return err
	}
	if err := parseAdjustment(c, &pt.query, false); err != nil {
		return err
	}
	answer, err := cached(r.Context(), s, "", pt, func(ctx context.Context) (encodedAnswer, time.Time, error) {
		rows, err := s.showAll(ctx, pt.query)
		if err != nil {
			return encodedAnswer{}, time.Time{}, err
		}
		if len(rows) == 0 {
			return encodedAnswer{body: []byte("[]")}, time.Time{}, nil
		}
		for i := range rows {
			rows[i].KnownAt = time.Time{}
		}
		answer, err := encodeAnswer(rows)
		return answer, time.Time{}, err // kept no longer than the poll interval
	})
	if err != nil {
		return err
	}
	// An answer as known "now" holds for this request's now too.
	aw := newAnswerWriter(w, r, http.StatusOK, "application/json; charset=utf-8")
	if err := answer.writeAt(aw, pt.query.KnownAt); err != nil {
		return nil // the client went away; the answer had begun
	}
	return aw.Close()
}

// showAll answers every instrument at one time, as ledger.ShowAll does,
// from the read models the cache keeps. An instrument not kept is loaded
// and kept while the bound has room for it, so a server that can hold the
// whole ledger soon answers from memory alone. The others, if any, are
// left to the ledger's ShowAll, which answers each from the cheapest
// source it has (its snapshots) and lets it go: a question about all of a
// large ledger must neither evict the instruments being asked about one by
// one nor hold the whole ledger.
func (s *Server) showAll(ctx context.Context, q projections.Query) ([]projections.Consensus, error) {
	lister, ok := eventstore.AsStreamLister(s.store)
	if !ok { // the ledger lists streams by reading every record: leave that to it
		return s.l.ShowAll(ctx, q)
	}
	infos, err := lister.Streams(ctx)
	if err != nil {
		return nil, fmt.Errorf("list streams: %w", err)
	}
	type instrument struct {
		sym    domain.Symbol
		events int64
	}
	var all []instrument
	for _, info := range infos {
		if sym, ok := domain.SymbolOfStream(info.Stream); ok && info.Events > 0 {
			all = append(all, instrument{sym, info.Events})
		}
	}
	slices.SortFunc(all, func(a, b instrument) int { return cmp.Compare(a.sym, b.sym) })
	out := make([]projections.Consensus, len(all))
	answered := make([]bool, len(all))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(runtime.GOMAXPROCS(0))
	for i, in := range all {
		if !s.l.WorthCaching(in.sym, int(in.events)) {
			continue
		}
		g.Go(func() error {
			ix, err := s.indexOf(gctx, in.sym)
			if err != nil {
				return err
			}
			out[i], answered[i] = consensusOf(in.sym, ix, q), true
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if !slices.Contains(answered, false) {
		return out, nil
	}
	// The ledger answers the kept instruments again, from the same read
	// models; what it saves on the others is worth more.
	rows, err := s.l.ShowAll(ctx, q)
	if err != nil {
		return nil, err
	}
	bySymbol := make(map[string]projections.Consensus, len(rows))
	for _, row := range rows {
		bySymbol[row.Instrument] = row
	}
	for i, in := range all {
		if answered[i] {
			continue
		}
		// Streams are never removed, so the ledger's later list has every
		// instrument of this one.
		row, ok := bySymbol[string(in.sym)]
		if !ok {
			return nil, fmt.Errorf("show all: the ledger did not answer for %s", in.sym)
		}
		out[i] = row
	}
	return out, nil
}

// getConsensus is `show SYMBOL --json`, with --explain as explain=true.
func (s *Server) getConsensus(w http.ResponseWriter, r *http.Request, c call) error {
	sym, err := parseSymbol(r.PathValue("symbol"))
	if err != nil {
		return err
	}
	pt, err := parsePoint(c, s.now())
	if err != nil {
		return err
	}
	if pt.query.Explain, err = parseBool(c, "explain"); err != nil {
		return err
	}
	if err := s.withTop(r, c, &pt); err != nil {
		return err
	}
	if err := parseAdjustment(c, &pt.query, false); err != nil {
		return err
	}
	answer, err := cached(r.Context(), s, sym, pt, func(ctx context.Context) (encodedAnswer, time.Time, error) {
		ix, err := s.indexOf(ctx, sym)
		if err != nil {
			return encodedAnswer{}, time.Time{}, err
		}
		c := consensusOf(sym, ix, pt.query)
		c.KnownAt = time.Time{}
		answer, err := encodeAnswer(c)
		return answer, recordedAfter(ix, pt.query.KnownAt), err
	})
	if err != nil {
		return err
	}
	// An answer as known "now" holds for this request's now too.
	body := answer.at(pt.query.KnownAt)
	if pt.query.Explain { // a long answer, worth compressing; the plain one is short
		writeCompressible(w, r, http.StatusOK, "application/json; charset=utf-8", body)
	} else {
		writeBody(w, http.StatusOK, "application/json; charset=utf-8", body)
	}
	return nil
}

// getHistory is `history SYMBOL --json`, with --first-published as
// first_published=true (rows gain "restated").
func (s *Server) getHistory(w http.ResponseWriter, r *http.Request, c call) error {
	h, err := s.history(r, c, "day", nil, false)
	if err != nil {
		return err
	}
	if h.firstPublished {
		return writeJSONRows(w, r, h.published.Rows)
	}
	return writeJSONRows(w, r, h.rows)
}

// historyAnswer is the history a request asks for: the plain rows, or the
// rows as first published.
type historyAnswer struct {
	firstPublished bool
	rows           []projections.Consensus
	published      projections.PublishedHistory
	splits         []projections.AppliedSplit // with withSplits: the splits a chart of the rows marks
}

// history computes the history a request's parameters ask for; every
// defaults to defaultEvery. check, if not nil, may refuse the period before
// anything is computed. With withSplits it also finds the splits effective
// between the first row and the last, which a chart marks, adjusted or not.
func (s *Server) history(r *http.Request, c call, defaultEvery string, check func(period) error, withSplits bool) (historyAnswer, error) {
	var h historyAnswer
	sym, err := parseSymbol(r.PathValue("symbol"))
	if err != nil {
		return h, err
	}
	pr, err := parsePeriod(c, defaultEvery)
	if err != nil {
		return h, err
	}
	if check != nil {
		if err := check(pr); err != nil {
			return h, err
		}
	}
	pt, err := parsePoint(c, s.now())
	if err != nil {
		return h, err
	}
	if err := parseAdjustment(c, &pt.query, true); err != nil {
		return h, err
	}
	if h.firstPublished, err = parseBool(c, "first_published"); err != nil {
		return h, err
	}
	ix, err := s.indexOf(r.Context(), sym)
	if err != nil {
		return h, err
	}
	top, err := parseTop(c)
	if err != nil {
		return h, err
	}
	if h.firstPublished {
		if top > 0 {
			return h, refuse(http.StatusBadRequest, "top", "top and first_published cannot be combined: give one")
		}
		h.published = projections.FirstPublished(sym, ix, pr.from, pr.to, pr.every, pt.query)
		return h, nil
	}
	if top > 0 {
		if pt.query.Tops, err = s.l.Tops(r.Context(), projections.RowTimes(pr.from, pr.to, pr.every), pt.query.KnownAt, top); err != nil {
			return h, err
		}
	}
	// One cursor over the history serves every period end: cheaper here
	// than a question to the read model per row.
	h.rows = projections.History(sym, ix.History(), pr.from, pr.to, pr.every, pt.query)
	if len(h.rows) > 0 && withSplits {
		last := h.rows[len(h.rows)-1].AsOf
		h.splits = projections.SplitsBetween(ix.State(last, pt.query.KnownAt), h.rows[0].AsOf, last)
	}
	return h, nil
}

// getDiff is `diff SYMBOL --json`: what changed the consensus over a
// history grid between two knowledge times, and why.
func (s *Server) getDiff(w http.ResponseWriter, r *http.Request, c call) error {
	sym, err := parseSymbol(r.PathValue("symbol"))
	if err != nil {
		return err
	}
	if !c.has("from_known") {
		return refuse(http.StatusBadRequest, "from_known", "query parameter from_known is required (a date or RFC 3339 time)")
	}
	pr, err := parsePeriod(c, "day")
	if err != nil {
		return err
	}
	d := projections.DiffQuery{From: pr.from, To: pr.to, Every: pr.every, ToKnown: s.now().UTC(), Window: projections.DefaultWindow}
	if d.FromKnown, err = domain.ParseTime("from_known", c.get("from_known")); err != nil {
		return badRequest(err)
	}
	toText := "now (" + domain.FormatTime(d.ToKnown) + ")"
	if c.has("to_known") {
		if d.ToKnown, err = domain.ParseTime("to_known", c.get("to_known")); err != nil {
			return badRequest(err)
		}
		toText = domain.Quote(c.get("to_known"))
	}
	if err := projections.CheckDiffKnown("from_known", c.get("from_known"), d.FromKnown, "to_known", toText, d.ToKnown); err != nil {
		return badRequest(err)
	}
	if c.has("window") {
		if d.Window, err = projections.ParseWindow(c.get("window")); err != nil {
			return badRequest(err)
		}
	}
	ix, err := s.indexOf(r.Context(), sym)
	if err != nil {
		return err
	}
	return writeJSONRows(w, r, projections.DiffHistory(sym, ix.History(), d))
}

// getChart draws a history as an SVG figure: the same figure `consensus
// chart` writes to a file. The period defaults to auto, which keeps the
// figure to at most about 160 columns whatever the range.
func (s *Server) getChart(w http.ResponseWriter, r *http.Request, c call) error {
	panels := chart.BothPanels
	if c.has("panel") {
		var ok bool
		if panels, ok = chart.ParsePanels(c.get("panel")); !ok {
			return refuse(http.StatusBadRequest, "panel", "panel %s must be targets, ratings or both", domain.Quote(c.get("panel")))
		}
	}
	width, err := parseSize(c, "width", chart.DefaultWidth)
	if err != nil {
		return err
	}
	height, err := parseSize(c, "height", chart.DefaultHeight)
	if err != nil {
		return err
	}
	h, err := s.history(r, c, "auto", func(pr period) error {
		if err := chart.CheckPoints(pr.from, pr.to, pr.every, "every"); err != nil {
			return refuse(http.StatusBadRequest, "every", "%s", err)
		}
		return nil
	}, true)
	if err != nil {
		return err
	}
	rows, restated := h.rows, []bool(nil)
	if h.firstPublished {
		rows, restated = h.published.Split()
	}
	var buf bytes.Buffer
	if err := chart.New(rows, chart.Options{Width: width, Height: height, Panels: panels, Restated: restated, Splits: h.splits}).WriteSVG(&buf); err != nil {
		return fmt.Errorf("draw the chart: %w", err)
	}
	writeCompressible(w, r, http.StatusOK, "image/svg+xml", buf.Bytes())
	return nil
}

// getEvents is `log SYMBOL --json`.
func (s *Server) getEvents(w http.ResponseWriter, r *http.Request, c call) error {
	sym, err := parseSymbol(r.PathValue("symbol"))
	if err != nil {
		return err
	}
	// The log reads the instrument's read model, caught up with the store,
	// as `consensus log` does; it counts against the ledger's cache bound.
	// Without known_at it is the log with everything stored, as `log` is.
	var entries []ledger.LogEntry
	if c.has("known_at") {
		pt, perr := parsePoint(c, s.now())
		if perr != nil {
			return perr
		}
		entries, err = s.l.LogAt(r.Context(), sym, pt.query.KnownAt)
	} else {
		entries, err = s.l.Log(r.Context(), sym)
	}
	if err != nil {
		return err
	}
	out := make([]ledger.LogLine, len(entries))
	for i, e := range entries {
		if out[i], err = e.Line(); err != nil {
			return err
		}
	}
	return writeJSONRows(w, r, out)
}

// writeJSONRows answers with rows as a JSON array, the bytes json.Marshal
// writes for it, encoded and compressed row by row: a 50,000-row history
// never exists as one encoded body besides its rows (which took some
// 75 MB more per request).
func writeJSONRows[T any](w http.ResponseWriter, r *http.Request, rows []T) error {
	aw := newAnswerWriter(w, r, http.StatusOK, "application/json; charset=utf-8")
	if rows == nil {
		_, _ = aw.Write([]byte("null\n"))
		return aw.Close()
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf) // escapes HTML as json.Marshal does
	buf.WriteByte('[')
	for i := range rows {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := enc.Encode(rows[i]); err != nil {
			return fmt.Errorf("encode the answer: %w", err)
		}
		buf.Truncate(buf.Len() - 1) // Encode's newline
		if buf.Len() >= 32<<10 || i == len(rows)-1 {
			if _, err := aw.Write(buf.Bytes()); err != nil {
				return nil // the client went away; the answer had begun
			}
			buf.Reset()
		}
	}
	buf.WriteString("]\n")
	_, _ = aw.Write(buf.Bytes())
	return aw.Close()
}

// withTop reads top=N and sets the query's cut as of its point in time. An
// answer over the top analysts depends on every instrument, which the
// answer cache (kept per instrument) cannot tell has changed, so it is
// computed afresh: the ledger keeps the track records it needs.
func (s *Server) withTop(r *http.Request, c call, pt *point) error {
	n, err := parseTop(c)
	if err != nil || n == 0 {
		return err
	}
	rec, err := s.l.TrackRecords(r.Context(), pt.query.AsOf, pt.query.KnownAt)
	if err != nil {
		return err
	}
	pt.query.Top = rec.Top(n)
	pt.asOfGiven = false // not cached: see above
	return nil
}
