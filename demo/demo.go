// Package demo holds the reference scenario the product was conceived from:
// the Alibaba consensus of 11-12 September 2025 (../shared/seed/FACTS.md),
// on the US listing BABA (USD) and the Hong Kong listing 9988.HK (HKD).
//
// The article gives the aggregate (17 buy, 1 hold, mean target 165.69 USD,
// the closes of 10-12 September); the individual analysts, firms, targets,
// earlier history and the other closes are invented so that the demo shows
// how the consensus moved: earlier ratings, upgrades, revisions, one
// withdrawal, one rating gone stale by September and one retracted typo.
//
// Every event has a fixed id derived from its content, so loading the
// scenario into a store twice writes nothing the second time.
package demo

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/ledger"
)

// The scenario's two days: Thursday 11 and Friday 12 September 2025.
const (
	Thursday = "2025-09-11"
	Friday   = "2025-09-12"
)

// namespace derives the scenario's event ids (UUID v5).
var namespace = uuid.MustParse("6f1c1d55-7c1e-4d2b-9a53-3c1f0e5b8a11")

// Step is one fact of the scenario, as an import row.
type Step struct {
	domain.Row
	// Key names the step so a retraction can refer to it (Retracts); it
	// also derives the step's event id.
	Key      string
	Retracts string // for a retraction: the Key of the retracted step
}

// ID is the step's fixed event id.
func (s Step) ID() uuid.UUID {
	key := s.Key
	if key == "" {
		r := s.Row
		key = strings.Join([]string{r.Type, r.Instrument, r.Analyst, r.Rating, r.Target, r.Price, r.Currency, r.At}, "|")
	}
	return uuid.NewSHA1(namespace, []byte(key))
}

// Command turns the step into a domain command.
func (s Step) Command(now time.Time) (domain.Command, error) {
	row := s.Row
	if s.Retracts != "" {
		row.EventID = Step{Key: s.Retracts}.ID().String()
	}
	return row.Command(now)
}

// Result counts what Load did.
type Result struct {
	Written, AlreadyPresent int
}

// Load records every step of the scenario, in order. Steps already in the
// store (by id) are left as they are.
func Load(ctx context.Context, l *ledger.Ledger) (Result, error) {
	var res Result
	for i, s := range Steps() {
		cmd, err := s.Command(l.Now())
		if err != nil {
			return res, fmt.Errorf("demo step %d: %w", i+1, err)
		}
		opts := ledger.WriteOptions{ID: s.ID(), RecordedBy: "demo", Source: fmt.Sprintf("demo:alibaba:%d", i+1)}
		receipt, err := l.Record(ctx, cmd, opts)
		if err != nil {
			return res, fmt.Errorf("demo step %d (%s %s): %w", i+1, s.Type, s.Instrument, err)
		}
		if receipt.Replayed {
			res.AlreadyPresent++
		} else {
			res.Written++
		}
	}
	return res, nil
}
