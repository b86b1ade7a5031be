package ledger_test

import (
	"context"
	"encoding/hex"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/disclosures"
	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/ledger"
	"github.com/consensus-ledger/consensus/ledger/snapshotcodec"
)

// checkDisclosures compares the reports of a fresh ledger (from each
// stream's snapshot head and the chunks of closes the report needs) with
// the report assembled from every instrument's whole stream, for n random
// firms, dates, knowledge times, months and windows.
func checkDisclosures(t *testing.T, source *ledger.Ledger, fresh func() *ledger.Ledger, rng *rand.Rand, n int) {
	t.Helper()
	ctx := context.Background()
	instruments, err := source.Instruments(ctx)
	require.NoError(t, err)
	histories := make([][]domain.Recorded, len(instruments))
	var (
		all []domain.Recorded
		// edges are the effective times of the closes at either end of a
		// snapshot's chunks of closes (ClosesPerChunk of them in stream
		// order): a report whose earliest close needed is one of them
		// reads a chunk for one close alone, or not at all.
		edges []time.Time
	)
	for i, in := range instruments {
		histories[i], err = source.Load(ctx, in.Symbol)
		require.NoError(t, err)
		all = append(all, histories[i]...)
		closes := 0
		for _, r := range histories[i] {
			if _, ok := r.Event.(domain.CloseRecorded); ok {
				if closes%snapshotcodec.ClosesPerChunk == 0 || closes%snapshotcodec.ClosesPerChunk == snapshotcodec.ClosesPerChunk-1 {
					edges = append(edges, r.Event.Effective())
				}
				closes++
			}
		}
	}
	firms, err := source.Firms(ctx, source.Now())
	require.NoError(t, err)
	require.NotEmpty(t, firms)
	for range 5 {
		// Firms from the snapshot heads, without the chunks of closes.
		knownAt := pick(rng, all, func(r domain.Recorded) time.Time { return r.RecordedAt })
		count := map[string]int{}
		for _, h := range histories {
			for _, name := range disclosures.Firms(h, knownAt) {
				count[name]++
			}
		}
		want := []ledger.Firm{}
		for name, n := range count {
			want = append(want, ledger.Firm{Name: name, Instruments: n})
		}
		slices.SortFunc(want, func(a, b ledger.Firm) int { return strings.Compare(a.Name, b.Name) })
		got, err := fresh().Firms(ctx, knownAt)
		require.NoError(t, err)
		require.Equal(t, want, append([]ledger.Firm{}, got...), "firms known at %s", knownAt)
	}
	for range n {
		q := disclosures.Query{
			Firm:    firms[rng.IntN(len(firms))].Name,
			AsOf:    pick(rng, all, func(r domain.Recorded) time.Time { return r.Event.Effective() }),
			KnownAt: pick(rng, all, func(r domain.Recorded) time.Time { return r.RecordedAt }),
			Months:  []int{1, 12, 36, 37, 120}[rng.IntN(5)],
			Window:  []time.Duration{0, 90 * 24 * time.Hour}[rng.IntN(2)],
		}
		if len(edges) > 0 && rng.IntN(2) == 0 {
			// The earliest close needed (Query.ClosesFrom) at a chunk's edge.
			edge := edges[rng.IntN(len(edges))].Add(-time.Duration(rng.IntN(2)) * time.Microsecond)
			if q.AsOf = edge.AddDate(disclosures.ChartYears, 0, 0); q.Months > 12*disclosures.ChartYears {
				q.AsOf = edge.AddDate(0, q.Months, 0)
			}
		}
		var (
			parts []disclosures.Instrument
			heads []disclosures.Head
			named bool
		)
		for i, in := range instruments {
			named = named || disclosures.Names(histories[i], q.Firm, q.KnownAt)
			part, ok := disclosures.Part(in.Symbol, histories[i], q)
			if !ok {
				continue
			}
			parts = append(parts, part)
			last := -1
			for v, r := range histories[i] {
				if !r.RecordedAt.After(q.KnownAt) {
					last = v
				}
			}
			if last >= 0 {
				recs, err := source.ChainRecords(ctx, in.Symbol)
				require.NoError(t, err)
				heads = append(heads, disclosures.Head{Stream: in.Symbol.Stream(), Version: int64(last), Hash: hex.EncodeToString(recs[last].Hash[:])})
			}
		}
		got, err := fresh().Disclosures(ctx, q)
		if !named {
			require.Error(t, err, "%s is named by no rating known at %s", q.Firm, q.KnownAt)
			continue
		}
		require.NoError(t, err)
		require.Equal(t, disclosures.Assemble(q, parts, heads), got, "%s as of %s known at %s, %d months", q.Firm, q.AsOf, q.KnownAt, q.Months)
	}
}
