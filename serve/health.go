package serve

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore"
)

// Statuses of the chain verification reported by GET /healthz.
const (
	verifyPending = "pending" // not run yet
	verifyRunning = "running" // the first run has not finished
	verifyOK      = "ok"
	verifyBroken  = "broken" // a hash chain does not verify: tampering or damage
	verifyError   = "error"  // the store could not be read to verify
)

// healthState is the outcome of the last verification of the hash chains.
// Verifying reads every event, which takes seconds on a large ledger, so it
// runs in the background (at start, then every Config.VerifyEvery) and the
// health check reports its last outcome.
type healthState struct {
	mu   sync.Mutex
	last verifyReport
}

// verifyReport is the "verify" part of the health answer.
type verifyReport struct {
	Status    string  `json:"status"`
	CheckedAt *string `json:"checked_at"`
	Events    int64   `json:"events"`
	Streams   int     `json:"streams"`
	Problem   *string `json:"problem"`
}

func (h *healthState) set(r verifyReport) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.last = r
}

func (h *healthState) get() verifyReport {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.last.Status == "" {
		return verifyReport{Status: verifyPending}
	}
	return h.last
}

// verifyLoop verifies every hash chain now and then every VerifyEvery.
func (s *Server) verifyLoop(ctx context.Context) {
	for {
		s.verifyOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-time.After(s.cfg.VerifyEvery):
		}
	}
}

func (s *Server) verifyOnce(ctx context.Context) {
	if prev := s.health.get(); prev.Status == verifyPending {
		s.health.set(verifyReport{Status: verifyRunning})
	}
	report, err := s.l.Verify(ctx, "")
	if ctx.Err() != nil {
		return
	}
	at := domain.FormatTime(s.now())
	out := verifyReport{Status: verifyOK, CheckedAt: &at, Events: report.Events, Streams: report.Streams}
	var chain *eventstore.ChainError
	switch {
	case errors.As(err, &chain):
		problem := sentence(err.Error())
		out.Status, out.Problem = verifyBroken, &problem
		s.log.Error("hash chain verification failed", slog.Any("error", err))
		s.metrics.storeErrors.WithLabelValues("verify").Inc()
	case err != nil:
		problem := sentence(err.Error())
		out.Status, out.Problem = verifyError, &problem
		s.log.Warn("cannot verify the hash chains", slog.Any("error", err))
		s.metrics.storeErrors.WithLabelValues("verify").Inc()
	}
	s.health.set(out)
}

// healthAnswer is the answer of GET /healthz.
type healthAnswer struct {
	Status    string       `json:"status"` // ok, or failing (with status 503)
	Store     string       `json:"store"`  // ok, or the read error
	Following bool         `json:"following"`
	Verify    verifyReport `json:"verify"`
	// LastCheckpoint is the last checkpoint serve wrote, null when it
	// writes none (no --checkpoint-dir).
	LastCheckpoint *checkpointReport `json:"last_checkpoint"`
}

// statusOnly is the health answer to a caller without a token, of a
// server with tokens: whether the server is healthy, and nothing of what
// the ledger holds (the verification's counts and the problem, which names
// an event).
type statusOnly struct {
	Status string `json:"status"`
}

// getHealth reports whether the store answers and what the last chain
// verification found. It answers 503 when the store cannot be read or a
// chain is broken: a ledger that may have been tampered with should not be
// trusted by a load balancer or an operator's dashboard. The load balancer
// needs no token for that; the details are for readers.
func (s *Server) getHealth(w http.ResponseWriter, r *http.Request, c call) error {
	answer := healthAnswer{Status: "ok", Store: "ok", Following: s.hub.following(), Verify: s.health.get()}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if _, err := s.store.ReadAll(ctx, eventstore.Position{}, 1); err != nil {
		answer.Store = sentence("cannot read the store: " + err.Error())
		answer.Status = "failing"
		s.metrics.storeErrors.WithLabelValues("read").Inc()
	}
	if answer.Verify.Status == verifyBroken || answer.Verify.Status == verifyError {
		answer.Status = "failing"
	}
	if s.cfg.CheckpointDir != "" {
		last := s.checkpoints.get()
		answer.LastCheckpoint = &last
		if last.Problem != nil {
			answer.Status = "failing"
		}
	}
	status := http.StatusOK
	if answer.Status != "ok" {
		status = http.StatusServiceUnavailable
	}
	if c.who.Role < RoleRead {
		writeJSON(w, status, statusOnly{Status: answer.Status})
		return nil
	}
	writeJSON(w, status, answer)
	return nil
}

func (s *Server) getMetrics(w http.ResponseWriter, r *http.Request, c call) error {
	s.metrics.serveHTTP(w, r)
	return nil
}
