package serve_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/serve"
)

// The targets here check that a write's answer tells the truth about the
// store: what it says was written is there, and a refusal wrote nothing.
// FuzzEventsBody and FuzzHandlers check the answers' form; these count the
// store's events around each request. Their corpora are in testdata/fuzz.

// fuzzStoredEvents counts every event of a test server's store, from the
// store's own stream list rather than through the server under test.
func fuzzStoredEvents(t *testing.T, ts *testServer) int64 {
	t.Helper()
	lister, ok := ts.store.(eventstore.StreamLister)
	if !ok {
		t.Fatal("the test store cannot list its streams")
	}
	streams, err := lister.Streams(context.Background())
	if err != nil {
		t.Fatalf("list the streams: %v", err)
	}
	var n int64
	for _, s := range streams {
		n += s.Events
	}
	return n
}

// FuzzEventsAnswerMatchesStore: any body of POST /api/v1/events writes
// exactly the rows its answer calls written, all in one go: a 201 adds
// "written" events, a 200 (every row a duplicate) and any refusal add none.
func FuzzEventsAnswerMatchesStore(f *testing.F) {
	ts := newServer(f, options{config: func(c *serve.Config) { c.MaxBodyBytes = 64 << 10 }})
	f.Add([]byte(`[{"type":"close","instrument":"BABA","price":"150","currency":"USD","at":"2025-09-15"}]`))
	f.Add([]byte(`[{"type":"rating","instrument":"NEW","analyst":"a@b","rating":"buy","currency":"USD","at":"2025-09-15"},` +
		`{"type":"close","instrument":"NEW","price":"1","currency":"EUR","at":"2025-09-15"}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		before := fuzzStoredEvents(t, ts)
		req, _ := http.NewRequest("POST", "/api/v1/events", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+writeToken)
		rec := serveOnce(ts.srv.Handler(), req)
		checkAnswer(t, rec)
		added := fuzzStoredEvents(t, ts) - before
		var answer struct {
			Written *int64 `json:"written"`
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &answer)
		switch {
		case rec.Code == http.StatusCreated && answer.Written != nil:
			if *answer.Written < 1 || added != *answer.Written {
				t.Fatalf("201 says %d written; the store gained %d: %s", *answer.Written, added, rec.Body)
			}
		case rec.Code == http.StatusCreated:
			t.Fatalf("201 without a count of what was written: %s", rec.Body)
		case added != 0:
			t.Fatalf("status %d, yet the store gained %d events: %s", rec.Code, added, rec.Body)
		}
	})
}

// FuzzImportAnswerMatchesStore: any body of POST /api/v1/import, as JSON
// Lines or CSV, dry run or not, is answered with a summary whose
// "imported" is exactly what the store gained (nothing on a dry run), and
// a request refused whole (400, 413) writes nothing.
func FuzzImportAnswerMatchesStore(f *testing.F) {
	ts := newServer(f, options{config: func(c *serve.Config) { c.MaxImportBytes = 64 << 10 }})
	f.Add([]byte(`{"type":"close","instrument":"BABA","price":"150","currency":"USD","at":"2025-09-15"}`+"\n"), "application/x-ndjson", false)
	f.Add([]byte("type,instrument,price,currency,at\nclose,BABA,150,USD,2025-09-16\nclose,BABA,x,USD,2025-09-17\n"), "text/csv", true)
	f.Fuzz(func(t *testing.T, body []byte, contentType string, dryRun bool) {
		before := fuzzStoredEvents(t, ts)
		target := "/api/v1/import"
		if dryRun {
			target += "?dry_run=true"
		}
		req, _ := http.NewRequest("POST", target, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+writeToken)
		req.Header["Content-Type"] = []string{contentType}
		rec := serveOnce(ts.srv.Handler(), req)
		checkAnswer(t, rec, http.StatusOK, http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity)
		added := fuzzStoredEvents(t, ts) - before
		var answer struct {
			DryRun   *bool  `json:"dry_run"`
			Imported *int64 `json:"imported"`
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &answer)
		switch {
		case rec.Code == http.StatusOK && (answer.Imported == nil || answer.DryRun == nil):
			t.Fatalf("200 without the summary: %s", rec.Body)
		case answer.Imported == nil || dryRun:
			if added != 0 {
				t.Fatalf("status %d (dry run %v), yet the store gained %d events: %s", rec.Code, dryRun, added, rec.Body)
			}
		case added != *answer.Imported:
			t.Fatalf("the answer says %d imported; the store gained %d: %s", *answer.Imported, added, rec.Body)
		}
	})
}
