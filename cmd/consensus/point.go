package main

import (
	"github.com/spf13/pflag"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/projections"
)

// pointFlags are the flags choosing the point in time a question is about.
type pointFlags struct {
	asOf, knownAt, window string
}

func (p *pointFlags) define(fs *pflag.FlagSet, withAsOf bool) {
	if withAsOf {
		fs.StringVar(&p.asOf, "as-of", "", "valid time: the consensus as of this date or time (default now)")
	}
	fs.StringVar(&p.knownAt, "known-at", "", "transaction time: only what the ledger knew at this date or time (default now)")
	fs.StringVar(&p.window, "window", "90d", "ratings older than this stop counting; 0d means never")
}

// defineTimes registers only --as-of and --known-at, for questions to
// which the consensus window does not apply (track records).
func (p *pointFlags) defineTimes(fs *pflag.FlagSet) {
	fs.StringVar(&p.asOf, "as-of", "", "valid time: as of this date or time (default now)")
	fs.StringVar(&p.knownAt, "known-at", "", "transaction time: only what the ledger knew at this date or time (default now)")
	p.window = "0d"
}

// query builds the projection query, defaulting both times to now.
func (p *pointFlags) query(a *app) (projections.Query, error) {
	now := a.now().UTC()
	q := projections.Query{AsOf: now, KnownAt: now}
	var err error
	if p.asOf != "" {
		if q.AsOf, err = domain.ParseTime("as-of", p.asOf); err != nil {
			return q, err
		}
	}
	if p.knownAt != "" {
		if q.KnownAt, err = domain.ParseTime("known-at", p.knownAt); err != nil {
			return q, err
		}
	}
	if q.Window, err = projections.ParseWindow(p.window); err != nil {
		return q, err
	}
	return q, nil
}

// listFlags are the flags of a command that lists something: the store and
// --json.
type listFlags struct {
	storeFlag
	json bool
}

func (f *listFlags) define(fs *pflag.FlagSet) {
	f.storeFlag.define(fs)
	fs.BoolVar(&f.json, "json", false, "print a JSON array")
}
