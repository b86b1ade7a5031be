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
	"slices"
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
	// Recorded is when a live ledger recorded the step (LoadLive): empty
	// means at its effective time, as most facts were.
	Recorded string
}

// TypoCorrected is when, in the live scenario (LoadLive), the 1650 target
// keyed on 3 September was retracted and 165 recorded instead: until then
// the ledger showed the typo.
const TypoCorrected = "2025-09-05T12:00:00Z"

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
		if err := record(ctx, l, i, s, &res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// LoadLive records the scenario as a live ledger would have, each step when
// it happened (its Recorded time, else its effective time), in that order,
// so its history as first published differs from today's where a
// correction came later. setNow moves the clock the ledger and its store
// read; it is called before each step, with times that never go back.
func LoadLive(ctx context.Context, l *ledger.Ledger, setNow func(time.Time)) (Result, error) {
	type timed struct {
		at   time.Time
		step int
	}
	steps := Steps()
	order := make([]timed, len(steps))
	for i, s := range steps {
		text, field := s.Recorded, "recorded"
		if text == "" {
			text, field = s.At, "at"
		}
		at, err := domain.ParseTime(field, text)
		if err != nil {
			return Result{}, fmt.Errorf("demo step %d: %w", i+1, err)
		}
		order[i] = timed{at, i}
	}
	slices.SortStableFunc(order, func(a, b timed) int { return a.at.Compare(b.at) })
	var res Result
	for _, o := range order {
		setNow(o.at)
		if err := record(ctx, l, o.step, steps[o.step], &res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// record records step i of the scenario at the ledger's now.
func record(ctx context.Context, l *ledger.Ledger, i int, s Step, res *Result) error {
	cmd, err := s.Command(l.Now())
	if err != nil {
		return fmt.Errorf("demo step %d: %w", i+1, err)
	}
	opts := ledger.WriteOptions{ID: s.ID(), RecordedBy: "demo", Source: fmt.Sprintf("demo:alibaba:%d", i+1)}
	receipt, err := l.Record(ctx, cmd, opts)
	if err != nil {
		return fmt.Errorf("demo step %d (%s %s): %w", i+1, s.Type, s.Instrument, err)
	}
	if receipt.Replayed {
		res.AlreadyPresent++
	} else {
		res.Written++
	}
	return nil
}
