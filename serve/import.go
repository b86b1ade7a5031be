package serve

import (
	"fmt"
	"mime"
	"net/http"
	"time"

	"github.com/consensus-ledger/consensus/backfill"
)

// maxListedRejects is how many rejected rows the answer to an import lists;
// the rest are counted.
const maxListedRejects = 100

// importDeadline bounds how long one import may take to send and apply:
// long enough for a large backfill over a slow link. A stalled or
// trickling body is cut off long before it (requestBody).
const importDeadline = time.Hour

// importAnswer is the answer to POST /api/v1/import: the summary the
// command prints, and the first rejected rows in the --rejects format.
type importAnswer struct {
	DryRun           bool              `json:"dry_run"`
	Imported         int               `json:"imported"`
	Duplicates       int               `json:"duplicates"`
	Rejected         int               `json:"rejected"`
	Rejects          []backfill.Reject `json:"rejects"`
	RejectsTruncated bool              `json:"rejects_truncated"`
}

// importRefusal is the answer when rows were rejected: the error envelope
// every error has, plus the summary.
type importRefusal struct {
	errorBody
	importAnswer
}

// postImport is `consensus import -`: the body, JSON Lines or CSV, is read
// as it arrives, sorted in bounded memory and written in whole batches, with
// the import's rules (content-derived ids, so sending a file again writes
// nothing twice; invalid rows rejected, valid rows written). As the command
// exits with status 1 when any row was rejected, the answer is then 422,
// with the counts of what was imported all the same.
func (s *Server) postImport(w http.ResponseWriter, r *http.Request, c call) error {
	dryRun, err := parseBool(c, "dry_run")
	if err != nil {
		return err
	}
	name := "api"
	if c.has("name") {
		if name = c.get("name"); name == "" || len(name) > 200 || !isPrintable(name) {
			return refuse(http.StatusBadRequest, "name", "name must be 1 to 200 printable characters")
		}
	}
	// The body sets its own read deadlines as it arrives (requestBody).
	_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(importDeadline)) // a test recorder cannot
	body, err := s.requestBody(w, r, s.cfg.MaxImportBytes, importDeadline)
	if err != nil {
		return err
	}
	reader, err := backfill.NewReader(body, formatName(r))
	if err != nil {
		return body.blame(err)
	}
	answer := importAnswer{DryRun: dryRun, Rejects: []backfill.Reject{}}
	opts := backfill.Options{Name: name, DryRun: dryRun, RecordedBy: c.who.Name,
		TempDir: s.cfg.TempDir, Now: s.l.Now,
		OnReject: func(rej backfill.Reject) error {
			if len(answer.Rejects) < maxListedRejects {
				answer.Rejects = append(answer.Rejects, rej)
			} else {
				answer.RejectsTruncated = true
			}
			return nil
		}}
	summary, err := backfill.Import(r.Context(), s.l, reader, opts)
	err = body.blame(err)
	if summary.Imported > 0 {
		s.cache.changedAll()
		s.metrics.eventsAppended.WithLabelValues("import").Add(float64(summary.Imported))
		s.hub.wake()
	}
	if err != nil {
		if summary.Imported > 0 {
			return fmt.Errorf("import stopped after whole batches only (%s so far); send it again to finish: %w", summary, err)
		}
		return err
	}
	answer.Imported, answer.Duplicates, answer.Rejected = summary.Imported, summary.Duplicates, summary.Rejected
	if summary.Rejected > 0 {
		writeJSON(w, http.StatusUnprocessableEntity, importRefusal{
			errorBody:    errorBody{Error: sentence(fmt.Sprintf("%d rows were rejected; %s", summary.Rejected, summary))},
			importAnswer: answer})
		return nil
	}
	writeJSON(w, http.StatusOK, answer)
	return nil
}

// formatName is the name backfill.NewReader detects the format from: the
// Content-Type's, or the content's first byte when the type says neither.
func formatName(r *http.Request) string {
	media, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch media {
	case "text/csv":
		return "body.csv"
	case "application/x-ndjson", "application/jsonl", "application/jsonlines", "application/x-jsonlines":
		return "body.jsonl"
	}
	return "-"
}
