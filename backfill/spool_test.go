package backfill

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"testing"

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
