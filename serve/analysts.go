package serve

import (
	"net/http"
	"strconv"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/projections"
)

// getAnalysts is `analysts --json`: the ranking as of as_of, known at
// known_at, by rank (success, return or accuracy), with min_closed and firm
// as the command line's flags.
func (s *Server) getAnalysts(w http.ResponseWriter, r *http.Request, c call) error {
	pt, err := parsePoint(c, s.now())
	if err != nil {
		return err
	}
	rank := projections.RankSuccess
	if c.has("rank") {
		if rank, err = projections.ParseRank(c.get("rank")); err != nil {
			return badRequest(err)
		}
	}
	filter := projections.RankFilter{Firm: c.get("firm")}
	if c.has("min_closed") {
		n, err := strconv.Atoi(c.get("min_closed"))
		if err != nil {
			return refuse(http.StatusBadRequest, "min_closed", "min_closed %s must be a whole number", domain.Quote(c.get("min_closed")))
		}
		if err := projections.CheckMinClosed(n); err != nil {
			return refuse(http.StatusBadRequest, "min_closed", "min_closed %s must be 0 or more", domain.Quote(c.get("min_closed")))
		}
		filter.MinClosed = n
	}
	rec, err := s.l.TrackRecords(r.Context(), pt.query.AsOf, pt.query.KnownAt)
	if err != nil {
		return err
	}
	rows := rec.Rank(rank, filter)
	if rows == nil {
		rows = []projections.TrackRecord{}
	}
	return writeJSONRows(w, r, rows)
}

// getAnalyst is `analyst ID --json`: one analyst's calls and summary.
func (s *Server) getAnalyst(w http.ResponseWriter, r *http.Request, c call) error {
	id, err := domain.ParseAnalyst(r.PathValue("id"))
	if err != nil {
		return badRequest(err)
	}
	pt, err := parsePoint(c, s.now())
	if err != nil {
		return err
	}
	report, err := s.l.Analyst(r.Context(), id, pt.query.AsOf, pt.query.KnownAt)
	if err != nil {
		return err
	}
	if report.Calls == nil {
		report.Calls = []projections.Call{}
	}
	writeJSON(w, http.StatusOK, report)
	return nil
}

// parseTop reads top=N (show --top N): 0 when absent, else at least 1.
func parseTop(c call) (int, error) {
	if !c.has("top") {
		return 0, nil
	}
	n, err := strconv.Atoi(c.get("top"))
	if err != nil {
		return 0, refuse(http.StatusBadRequest, "top", "top %s must be a whole number", domain.Quote(c.get("top")))
	}
	if err := projections.CheckTop(n); err != nil {
		return 0, badRequest(err)
	}
	return n, nil
}
