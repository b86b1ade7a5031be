package serve

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/consensus-ledger/consensus/chart"
	"github.com/consensus-ledger/consensus/domain"
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
	rows, err := cached(r.Context(), s, "", pt, func(ctx context.Context) ([]projections.Consensus, error) {
		return s.l.ShowAll(ctx, pt.query)
	})
	if err != nil {
		return err
	}
	if !pt.knownAtGiven { // cached as known "now": say when now is
		rows = append([]projections.Consensus(nil), rows...)
		for i := range rows {
			rows[i].KnownAt = pt.query.KnownAt
		}
	}
	return writeJSONCompressible(w, r, rows)
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
	answer, err := cached(r.Context(), s, sym, pt, func(ctx context.Context) (encodedConsensus, error) {
		history, err := s.historyOf(ctx, sym)
		if err != nil {
			return encodedConsensus{}, err
		}
		return encodeConsensus(projections.Show(sym, history, pt.query))
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

// getHistory is `history SYMBOL --json`.
func (s *Server) getHistory(w http.ResponseWriter, r *http.Request, c call) error {
	rows, err := s.history(r, c, "day")
	if err != nil {
		return err
	}
	return writeJSONCompressible(w, r, rows)
}

// history computes the history a request's parameters ask for; every
// defaults to defaultEvery.
func (s *Server) history(r *http.Request, c call, defaultEvery string) ([]projections.Consensus, error) {
	sym, err := parseSymbol(r.PathValue("symbol"))
	if err != nil {
		return nil, err
	}
	pr, err := parsePeriod(c, defaultEvery)
	if err != nil {
		return nil, err
	}
	pt, err := parsePoint(c, s.now())
	if err != nil {
		return nil, err
	}
	history, err := s.historyOf(r.Context(), sym)
	if err != nil {
		return nil, err
	}
	return projections.History(sym, history, pr.from, pr.to, pr.every, pt.query), nil
}

// getChart draws a history as an SVG figure: the same figure `consensus
// chart` writes to a file. The period defaults to auto, which keeps the
// figure to at most about 160 columns whatever the range.
func (s *Server) getChart(w http.ResponseWriter, r *http.Request, c call) error {
	panels := chart.BothPanels
	if c.has("panel") {
		var ok bool
		if panels, ok = chart.ParsePanels(c.get("panel")); !ok {
			return refuse(http.StatusBadRequest, "panel", "panel %q must be targets, ratings or both", truncate(c.get("panel"), 40))
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
	rows, err := s.history(r, c, "auto")
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := chart.New(rows, chart.Options{Width: width, Height: height, Panels: panels}).WriteSVG(&buf); err != nil {
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
	entries, err := s.l.Log(r.Context(), sym)
	if err != nil {
		return err
	}
	out := make([]ledger.LogLine, len(entries))
	for i, e := range entries {
		if out[i], err = e.Line(); err != nil {
			return err
		}
	}
	return writeJSONCompressible(w, r, out)
}

// writeJSONCompressible answers with v as JSON, compressed when worth it.
func writeJSONCompressible(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode the answer: %w", err)
	}
	writeCompressible(w, r, http.StatusOK, "application/json; charset=utf-8", append(body, '\n'))
	return nil
}
