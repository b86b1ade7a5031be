package serve

import (
	"bytes"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/consensus-ledger/consensus/disclosures"
	"github.com/consensus-ledger/consensus/domain"
)

// firmJSON is one firm as `firms --json` prints it.
type firmJSON struct {
	Firm        string `json:"firm"`
	Instruments int    `json:"instruments"`
}

// getFirms is `firms --json`.
func (s *Server) getFirms(w http.ResponseWriter, r *http.Request, c call) error {
	pt, err := parsePoint(c, s.now())
	if err != nil {
		return err
	}
	firms, err := s.l.Firms(r.Context(), pt.query.KnownAt)
	if err != nil {
		return err
	}
	out := make([]firmJSON, len(firms))
	for i, f := range firms {
		out[i] = firmJSON{f.Name, f.Instruments}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// maxFirmBytes bounds the {firm} of a path: longer than any firm name a
// rating can record (free text is bounded by domain.CheckFreeText).
const maxFirmBytes = 1000

// getDisclosures is `disclosures --firm F --json`, `--csv` with
// format=csv, and the PDF with format=pdf (application/pdf). Without
// window, every rating held counts, as on the command line.
func (s *Server) getDisclosures(w http.ResponseWriter, r *http.Request, c call) error {
	firm := r.PathValue("firm")
	if firm == "" || len(firm) > maxFirmBytes || !utf8.ValidString(firm) {
		return refuse(http.StatusBadRequest, "firm", "firm %s must be a firm's name as its ratings record it", domain.Quote(firm))
	}
	pt, err := parsePoint(c, s.now())
	if err != nil {
		return err
	}
	if !c.has("window") {
		pt.query.Window = 0
	}
	months := disclosures.DefaultMonths
	if c.has("months") {
		if months, err = strconv.Atoi(c.get("months")); err != nil {
			months = -1 // refused below, naming the value as given
		}
		if err := disclosures.CheckMonths("months", months); err != nil {
			return refuse(http.StatusBadRequest, "months", "months %s must be a whole number of months from 1 to %d",
				domain.Quote(c.get("months")), disclosures.MaxMonths)
		}
	}
	format := "json"
	if c.has("format") {
		format = c.get("format")
	}
	if format != "json" && format != "csv" && format != "pdf" {
		return refuse(http.StatusBadRequest, "format", "format %s must be json, csv or pdf", domain.Quote(format))
	}
	rep, err := s.l.Disclosures(r.Context(), disclosures.Query{Firm: firm, AsOf: pt.query.AsOf, KnownAt: pt.query.KnownAt,
		Months: months, Window: pt.query.Window})
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	switch format {
	case "csv":
		if err := rep.WriteCSV(&buf); err != nil {
			return err
		}
		writeCompressible(w, r, http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
	case "pdf":
		if err := rep.WritePDF(&buf); err != nil {
			return err
		}
		w.Header().Set("Content-Disposition", `inline; filename="disclosures.pdf"`)
		writeBody(w, http.StatusOK, "application/pdf", buf.Bytes())
	default:
		writeJSON(w, http.StatusOK, rep)
	}
	return nil
}
