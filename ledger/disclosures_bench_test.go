package ledger_test

import (
	"context"
	"io"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/disclosures"
	"github.com/consensus-ledger/consensus/eventstore/sqlite"
	"github.com/consensus-ledger/consensus/ledger"
)

// BenchmarkDisclosuresWarmStore is `disclosures` on an existing store, such
// as the import of `consensus gen --instruments 300 --analysts 300 --years
// 10 --seed 1`: CONSENSUS_BENCH_STORE names the file and
// CONSENSUS_BENCH_FIRM the firm (default: the one rating the most
// instruments). Each operation is the whole report as of the history's last
// day, 12 months, and then its PDF with every chart; the store's pages are
// warm after the first. It is skipped without a store.
func BenchmarkDisclosuresWarmStore(b *testing.B) {
	path := os.Getenv("CONSENSUS_BENCH_STORE")
	if path == "" {
		b.Skip("set CONSENSUS_BENCH_STORE to a ledger file (and CONSENSUS_BENCH_FIRM) to run")
	}
	store, err := sqlite.Open(path, sqlite.Options{ReadOnly: true})
	require.NoError(b, err)
	b.Cleanup(func() { store.Close() })
	l := ledger.New(store)
	ctx := context.Background()
	knownAt := time.Now().UTC()
	firm := os.Getenv("CONSENSUS_BENCH_FIRM")
	if firm == "" {
		firms, err := l.Firms(ctx, knownAt)
		require.NoError(b, err)
		firm = slices.MaxFunc(firms, func(a, c ledger.Firm) int { return a.Instruments - c.Instruments }).Name
	}
	q := disclosures.Query{Firm: firm, AsOf: time.Date(2025, 12, 31, 23, 59, 59, 999999999, time.UTC), KnownAt: knownAt, Months: 12}
	var rep disclosures.Report
	b.Run("report", func(b *testing.B) {
		for b.Loop() {
			rep, err = l.Disclosures(ctx, q)
			require.NoError(b, err)
		}
		b.Logf("%s: %d instruments held, %d recommendations, %d charts", firm, rep.Distribution.Instruments, len(rep.Recommendations), len(rep.Charts))
	})
	b.Run("pdf", func(b *testing.B) {
		for b.Loop() {
			require.NoError(b, rep.WritePDF(io.Discard))
		}
	})
}
