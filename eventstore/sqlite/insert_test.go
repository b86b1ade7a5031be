package sqlite

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/eventstore"
)

// TestRunsStoreEachRecordsOwnValues appends, in one transaction, two
// streams' batches long enough for two runs of insertChunk rows and a rest
// inserted one at a time, with every field varying from row to row
// (metadata present or not), and reads every record back as appended: a
// run's rows refer to the first row's stream and version, and a wrong
// parameter number would store one row's value under another.
func TestRunsStoreEachRecordsOwnValues(t *testing.T) {
	ctx := context.Background()
	s, err := Open(filepath.Join(t.TempDir(), "ledger.db"), Options{})
	require.NoError(t, err)
	defer s.Close()
	n := 2*insertChunk + 5
	batch := func(stream string) eventstore.StreamBatch {
		events := make([]eventstore.EventData, n)
		for i := range events {
			events[i] = eventstore.EventData{
				ID:          uuid.New(),
				Type:        fmt.Sprintf("Type%d", i%3),
				Data:        []byte(fmt.Sprintf(`{"stream":%q,"row":%d}`, stream, i)),
				EffectiveAt: time.Date(2020, 1, 1, 0, 0, 0, i*1000, time.UTC),
			}
			if i%2 == 0 {
				events[i].Metadata = []byte(fmt.Sprintf(`{"source":"row %d"}`, i))
			}
		}
		return eventstore.StreamBatch{Stream: stream, Expected: eventstore.NoStream, Events: events}
	}
	results, err := s.AppendBatches(ctx, []eventstore.StreamBatch{batch("instrument-A"), batch("instrument-B")})
	require.NoError(t, err)
	for _, res := range results {
		stream := res.Records[0].Stream
		stored, err := s.ReadStream(ctx, stream, 0, n+1)
		require.NoError(t, err)
		require.Equal(t, res.Records, stored, stream)
		for i, r := range stored {
			require.Equal(t, int64(i), r.Version)
			require.Equal(t, fmt.Sprintf(`{"stream":%q,"row":%d}`, stream, i), string(r.Data))
		}
	}
}

// TestContinuesRun refuses records a run statement would store under
// another stream or version than their own.
func TestContinuesRun(t *testing.T) {
	run := func() []eventstore.Record {
		records := make([]eventstore.Record, 4)
		for i := range records {
			records[i] = eventstore.Record{Stream: "instrument-A", Version: 7 + int64(i)}
		}
		return records
	}
	require.NoError(t, continuesRun(run()))
	gap := run()
	gap[2].Version++
	require.ErrorIs(t, continuesRun(gap), eventstore.ErrInvalidEvent)
	other := run()
	other[3].Stream = "instrument-B"
	require.ErrorIs(t, continuesRun(other), eventstore.ErrInvalidEvent)
}
