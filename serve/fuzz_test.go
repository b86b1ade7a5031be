package serve_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/consensus-ledger/consensus/serve"
)

// FuzzParseTokens: any token file is read or refused, never a panic, and
// every token it grants is found again.
func FuzzParseTokens(f *testing.F) {
	f.Add([]byte(tokenFile))
	f.Fuzz(func(t *testing.T, file []byte) {
		tokens, err := serve.ParseTokens(bytes.NewReader(file))
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
			return
		}
		for _, line := range strings.Split(strings.TrimPrefix(string(file), "\ufeff"), "\n") {
			fields := strings.Fields(line)
			if len(fields) < 3 || strings.HasPrefix(strings.TrimSpace(line), "#") {
				continue
			}
			if _, ok := tokens.Lookup(fields[0]); !ok {
				t.Errorf("token of line %q not found", line)
			}
		}
	})
}

// checkAnswer checks what every answer must be: never a server fault, and
// an error is the JSON envelope with one sentence.
func checkAnswer(t *testing.T, rec *httptest.ResponseRecorder, allowed ...int) {
	t.Helper()
	if rec.Code >= 500 && rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if len(allowed) > 0 && !containsInt(allowed, rec.Code) {
		t.Fatalf("status %d, want one of %v: %s", rec.Code, allowed, rec.Body)
	}
	if rec.Code < 400 {
		return
	}
	if rec.Code == http.StatusNotModified {
		return
	}
	var body map[string]json.RawMessage
	var msg string
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || json.Unmarshal(body["error"], &msg) != nil || body["field"] == nil {
		t.Fatalf("status %d without the JSON error envelope: %s", rec.Code, rec.Body)
	}
	if msg == "" || strings.Contains(msg, "goroutine") || strings.Contains(msg, ".go:") {
		t.Fatalf("no sentence, or a trace, in the error: %q", msg)
	}
}

func containsInt(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// serveOnce sends one request to the handler in process, with a deadline
// so that nothing can hang a fuzz run, for the Host a local client names.
func serveOnce(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	if req.Host == "" {
		req.Host = "localhost"
	}
	ctx, cancel := context.WithTimeout(req.Context(), 2*time.Second)
	defer cancel()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req.WithContext(ctx))
	return rec
}

// FuzzConsensusQuery: any query string of the consensus endpoint is
// answered, or refused with a 400 naming the parameter.
func FuzzConsensusQuery(f *testing.F) {
	ts := newServer(f, options{noTokens: true})
	f.Add("as_of=2025-09-11&explain=true")
	for _, seed := range badQuerySeeds {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, query string) {
		req, err := http.NewRequest("GET", "/api/v1/instruments/BABA/consensus", nil)
		if err != nil {
			t.Skip()
		}
		req.URL.RawQuery = query
		rec := serveOnce(ts.srv.Handler(), req)
		checkAnswer(t, rec, http.StatusOK, http.StatusBadRequest)
		checkUndecodableRefused(t, query, rec)
	})
}

// badQuerySeeds are query strings that Go's url.ParseQuery decodes only in
// part: each must be refused whole.
var badQuerySeeds = []string{
	"as_of=2025-09-11&known_at=T%",
	"as_of=2025-09-11;known_at=2020-01-01",
	"as_of=2025-09-11&kn%zzown_at=2020-01-01",
	"as_of=2025-09-11%2",
	"%=1",
	"=2025-09-11",
	"as_of=2025-09-11&&explain=true&",
	"from=2025-09-01&to=2025-09-12%&every=week",
	"from=2025-09-01;to=2025-09-12",
}

// checkUndecodableRefused checks that a query string url.ParseQuery cannot
// decode whole (a pair it would drop) is refused with a 400, never answered
// as if the dropped pair had not been sent.
func checkUndecodableRefused(t *testing.T, query string, rec *httptest.ResponseRecorder) {
	t.Helper()
	if _, err := url.ParseQuery(query); err != nil && rec.Code != http.StatusBadRequest {
		t.Fatalf("query %q does not decode (%v), yet status %d: %s", query, err, rec.Code, rec.Body)
	}
}

// FuzzHistoryQuery: the same for a history and its chart.
func FuzzHistoryQuery(f *testing.F) {
	ts := newServer(f, options{noTokens: true})
	f.Add("from=2025-09-01&to=2025-09-12&every=week")
	for _, seed := range badQuerySeeds {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, query string) {
		for _, path := range []string{"/api/v1/instruments/BABA/history", "/api/v1/instruments/BABA/chart.svg"} {
			req, err := http.NewRequest("GET", path, nil)
			if err != nil {
				t.Skip()
			}
			req.URL.RawQuery = query
			rec := serveOnce(ts.srv.Handler(), req)
			checkAnswer(t, rec, http.StatusOK, http.StatusBadRequest)
			checkUndecodableRefused(t, query, rec)
		}
	})
}

// FuzzEventsBody: any body of POST /api/v1/events is written or refused
// with the right status, and a refused batch writes nothing.
func FuzzEventsBody(f *testing.F) {
	ts := newServer(f, options{config: func(c *serve.Config) { c.MaxBodyBytes = 64 << 10 }})
	f.Add([]byte(`[{"type":"close","instrument":"BABA","price":"150","currency":"USD","at":"2025-09-15"}]`))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, _ := http.NewRequest("POST", "/api/v1/events", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+writeToken)
		checkAnswer(t, serveOnce(ts.srv.Handler(), req), http.StatusOK, http.StatusCreated, http.StatusBadRequest,
			http.StatusConflict, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity)
	})
}

// FuzzHandlers: any method, path, query and body, with or without a token,
// gets a proper answer: never a 500, a panic or a stack trace.
func FuzzHandlers(f *testing.F) {
	ts := newServer(f, options{config: func(c *serve.Config) { c.MaxBodyBytes = 64 << 10; c.MaxImportBytes = 64 << 10 }})
	f.Add("GET", "/api/v1/instruments/BABA/consensus?as_of=2025-09-11", uint8(1), []byte(nil))
	for _, seed := range badQuerySeeds {
		f.Add("GET", "/api/v1/instruments/BABA/consensus?"+seed, uint8(1), []byte(nil))
	}
	f.Fuzz(func(t *testing.T, method, target string, who uint8, body []byte) {
		if strings.Contains(target, "stream") {
			t.Skip("the event stream answers for as long as the client listens")
		}
		req, err := http.NewRequest(method, "http://consensus.test"+target, bytes.NewReader(body))
		if err != nil || !strings.HasPrefix(target, "/") {
			t.Skip()
		}
		switch who % 3 {
		case 1:
			req.Header.Set("Authorization", "Bearer "+readToken)
		case 2:
			req.Header.Set("Authorization", "Bearer "+writeToken)
		}
		checkAnswer(t, serveOnce(ts.srv.Handler(), req))
	})
}
