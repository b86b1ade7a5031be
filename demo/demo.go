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

// Step is one fact of the scenario, in the import vocabulary.
type Step struct {
	Type       string // rating, target, withdraw, close, retract
	Instrument string
	Analyst    string
	Firm       string
	Rating     string
	Target     string
	Price      string
	Currency   string
	At         string
	Retracts   string // for retract: the Key of the retracted step
	Reason     string
	// Key names the step so a retraction can refer to it; it also derives
	// the step's event id.
	Key string
}

// ID is the step's fixed event id.
func (s Step) ID() uuid.UUID {
	key := s.Key
	if key == "" {
		key = fmt.Sprintf("%s|%s|%s|%s|%s|%s|%s|%s", s.Type, s.Instrument, s.Analyst, s.Rating, s.Target, s.Price, s.Currency, s.At)
	}
	return uuid.NewSHA1(namespace, []byte(key))
}

// Command turns the step into a domain command.
func (s Step) Command() (domain.Command, error) {
	sym, err := domain.ParseSymbol(s.Instrument)
	if err != nil {
		return nil, err
	}
	if s.Type == "retract" {
		return domain.Retract{Instrument: sym, EventID: uuid.NewSHA1(namespace, []byte(s.Retracts)), Reason: s.Reason}, nil
	}
	when, err := domain.ParseTime("at", s.At)
	if err != nil {
		return nil, err
	}
	var cur domain.Currency
	if s.Currency != "" {
		if cur, err = domain.ParseCurrency(s.Currency); err != nil {
			return nil, err
		}
	}
	switch s.Type {
	case "rating":
		r, err := domain.ParseRating(s.Rating)
		if err != nil {
			return nil, err
		}
		cmd := domain.Rate{Instrument: sym, Analyst: domain.Analyst(s.Analyst), Firm: s.Firm, Rating: r,
			BrokerRating: s.Rating, Currency: cur, EffectiveAt: when}
		if s.Target != "" {
			t, err := domain.ParseMoney("target", s.Target)
			if err != nil {
				return nil, err
			}
			cmd.Target = &t
		}
		return cmd, nil
	case "target":
		t, err := domain.ParseMoney("target", s.Target)
		if err != nil {
			return nil, err
		}
		return domain.Revise{Instrument: sym, Analyst: domain.Analyst(s.Analyst), Target: t, Currency: cur, EffectiveAt: when}, nil
	case "withdraw":
		return domain.Withdraw{Instrument: sym, Analyst: domain.Analyst(s.Analyst), EffectiveAt: when}, nil
	case "close":
		p, err := domain.ParseMoney("price", s.Price)
		if err != nil {
			return nil, err
		}
		return domain.RecordClose{Instrument: sym, Price: p, Currency: cur, EffectiveAt: when}, nil
	}
	return nil, fmt.Errorf("unknown step type %q", s.Type)
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
		cmd, err := s.Command()
		if err != nil {
			return res, fmt.Errorf("demo step %d: %w", i+1, err)
		}
		opts := ledger.WriteOptions{ID: s.ID(), RecordedBy: "demo", Source: fmt.Sprintf("demo:alibaba:%d", i+1)}
		var receipt ledger.Receipt
		if r, ok := cmd.(domain.Retract); ok {
			receipt, err = l.Retract(ctx, r.EventID, r.Reason, opts)
		} else {
			receipt, err = l.Record(ctx, cmd, opts)
		}
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
