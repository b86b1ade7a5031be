package main

import (
	"errors"

	"github.com/spf13/pflag"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/projections"
)

// pointFlags are the flags choosing the point in time a question is about,
// and the share basis its prices and targets are given on (CONTRACT
// section 7).
type pointFlags struct {
	asOf, knownAt, window string
	unadjusted            bool
	basis                 basisFlag
}

// define registers the flags of show (withAsOf) or of a series, history
// and chart, which take --basis instead of --as-of: show's basis is its
// as_of.
func (p *pointFlags) define(fs *pflag.FlagSet, withAsOf bool) {
	if withAsOf {
		fs.StringVar(&p.asOf, "as-of", "", "valid time: the consensus as of this date or time (default now)")
	}
	fs.StringVar(&p.knownAt, "known-at", "", "transaction time: only what the ledger knew at this date or time (default now)")
	fs.StringVar(&p.window, "window", "90d", "ratings older than this stop counting; 0d means never")
	fs.BoolVar(&p.unadjusted, "unadjusted", false, "prices and targets as published, not adjusted for splits")
	if !withAsOf {
		fs.Var(&p.basis, "basis", "share basis of the rows: last (every row on the last row's basis, a continuous series) or each (every row on its own)")
	}
}

// defineTimes registers only --as-of and --known-at, for questions to
// which the consensus window does not apply (track records).
func (p *pointFlags) defineTimes(fs *pflag.FlagSet) {
	fs.StringVar(&p.asOf, "as-of", "", "valid time: as of this date or time (default now)")
	fs.StringVar(&p.knownAt, "known-at", "", "transaction time: only what the ledger knew at this date or time (default now)")
	p.window = "0d"
}

// basisFlag is --basis, read by projections.ParseBasis: a bad value is a
// usage error (exit 2) saying what the flag takes.
type basisFlag struct{ each bool }

func (b *basisFlag) String() string {
	if b.each {
		return "each"
	}
	return "last"
}

func (b *basisFlag) Set(text string) error {
	each, err := projections.ParseBasis(text)
	var v *domain.ValidationError
	if errors.As(err, &v) {
		return errors.New(v.Reason) // pflag names the flag and the value before it
	}
	b.each = each
	return nil
}

func (b *basisFlag) Type() string { return "basis" }

// explainsRefusal marks basisFlag's Set errors as fit to show.
func (b *basisFlag) explainsRefusal() {}

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
	q.Unadjusted, q.EachBasis = p.unadjusted, p.basis.each
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
