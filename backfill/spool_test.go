package backfill

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"runtime"
	"slices"
	"testing"
	"weak"

	"github.com/stretchr/testify/require"
)

// TestSpoolMergesManyFiles spills far more chunks than are merged at once,
// so the merge cascades, and checks every item comes back exactly once, in
// order.
func TestSpoolMergesManyFiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 9))
	s := newSpool(t.TempDir(), 7)
	defer s.close()
	var want []*item
	for line := range 7 * (3*mergeFanIn + 5) {
		it := &item{instrument: fmt.Sprintf("S%d", rng.IntN(9)), effective: rng.Int64N(50), line: line + 1, source: "x"}
		want = append(want, it)
		require.NoError(t, s.add(it))
	}
	require.Greater(t, len(s.files), mergeFanIn)
	next, err := s.sorted()
	require.NoError(t, err)
	var got []string
	for {
		it, err := next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		got = append(got, fmt.Sprintf("%s/%d/%d", it.instrument, it.effective, it.line))
	}
	require.LessOrEqual(t, len(s.files), mergeFanIn)
	slices.SortFunc(want, compareItems)
	wantKeys := make([]string, len(want))
	for i, it := range want {
		wantKeys[i] = fmt.Sprintf("%s/%d/%d", it.instrument, it.effective, it.line)
	}
	require.Equal(t, wantKeys, got)
}

// TestSpoolLetsWrittenItemsGo: once a chunk is written to its file, the
// spool no longer holds its items, so an import's heap during the merge
// does not carry the last chunk read (some 50 MB of a 1,000,000-row file,
// which made the collector run twice as often).
func TestSpoolLetsWrittenItemsGo(t *testing.T) {
	s := newSpool(t.TempDir(), 100)
	defer s.close()
	var written []weak.Pointer[item]
	for line := range 250 { // five halves of 50 written as they fill
		it := &item{instrument: "S", effective: int64(line), line: line + 1, source: "x"}
		written = append(written, weak.Make(it))
		require.NoError(t, s.add(it))
	}
	next, err := s.sorted() // writes the last 50 too
	require.NoError(t, err)
	runtime.GC()
	for i, p := range written {
		require.Nil(t, p.Value(), "item %d is still reachable once written", i+1)
	}
	it, err := next()
	require.NoError(t, err)
	require.Equal(t, 1, it.line, "the items come back from the files")
}

// TestSpoolReportsAFailedWrite: a half written in the background that
// cannot be written fails the import at the next add or at the merge,
// never silently losing its items.
func TestSpoolReportsAFailedWrite(t *testing.T) {
	s := newSpool(filepath.Join(t.TempDir(), "missing"), 4)
	defer s.close()
	var err error
	for line := range 5 {
		if err = s.add(&item{instrument: "S", line: line + 1}); err != nil {
			break
		}
	}
	if err == nil {
		_, err = s.sorted()
	}
	require.ErrorContains(t, err, "spool: ")
	require.ErrorContains(t, err, "missing")
}

// TestSortItemsOrdersAsCompareItems checks the spool's sort against the
// order compareItems defines, on random halves: few or many instruments,
// equal effective times (then the line decides), retractions, and items
// in any order.
func TestSortItemsOrdersAsCompareItems(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for round := range 200 {
		n := rng.IntN(300)
		symbols := 1 + rng.IntN(40)
		items := make([]*item, n)
		for i := range items {
			effective := rng.Int64N(20)
			if rng.IntN(10) == 0 {
				effective = retractionOrder
			}
			items[i] = &item{instrument: fmt.Sprintf("S%d", rng.IntN(symbols)), effective: effective, line: i + 1}
		}
		rng.Shuffle(n, func(i, j int) { items[i], items[j] = items[j], items[i] })
		want := slices.Clone(items)
		slices.SortFunc(want, compareItems)
		sortItems(items)
		require.Equal(t, want, items, "round %d", round)
	}
}
