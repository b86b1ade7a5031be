package serve

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/eventstore"
)

// TestHubMakesEachEventOnce: a record's frame (its payload with the
// actions, which read the instrument's history) is made once however many
// clients follow it, every client following it is sent those same bytes,
// and a record no client follows makes no frame at all.
func TestHubMakesEachEventOnce(t *testing.T) {
	h := newHub(nil, 0, discardLogger())
	made := map[string]int{}
	h.frame = func(_ context.Context, r eventstore.Record) []byte {
		made[r.Stream]++
		return fmt.Appendf(nil, "data: %s %d\n\n", r.Stream, r.Version)
	}
	h.live = true
	var all, baba []*subscription
	for range 3 {
		s, _, err := h.subscribe("")
		require.NoError(t, err)
		all = append(all, s)
		s, _, err = h.subscribe("instrument-BABA")
		require.NoError(t, err)
		baba = append(baba, s)
	}
	hk, _, err := h.subscribe("instrument-9988.HK")
	require.NoError(t, err)

	ctx := context.Background()
	h.publish(ctx, eventstore.Record{Stream: "instrument-BABA", Version: 7, Position: eventstore.Position{Commit: 1, Prepare: 1}})
	assert.Equal(t, map[string]int{"instrument-BABA": 1}, made, "one frame for six clients")
	var first []byte
	for _, s := range append(all, baba...) {
		require.Len(t, s.frames, 1)
		frame := <-s.frames
		assert.Equal(t, "data: instrument-BABA 7\n\n", string(frame))
		if first == nil {
			first = frame
		}
		assert.Same(t, &first[0], &frame[0], "the same bytes, not a copy per client")
	}
	assert.Empty(t, hk.frames, "a client of another instrument is sent nothing")

	for _, s := range append(all, hk) {
		h.unsubscribe(s)
	}
	h.publish(ctx, eventstore.Record{Stream: "instrument-MSFT", Version: 0, Position: eventstore.Position{Commit: 2, Prepare: 2}})
	assert.Equal(t, map[string]int{"instrument-BABA": 1}, made, "nobody follows MSFT: no frame made")
	assert.Equal(t, eventstore.Position{Commit: 2, Prepare: 2}, h.position(), "the hub still moves past it")
}
