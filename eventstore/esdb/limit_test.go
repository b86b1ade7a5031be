package esdb_test

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/eventstore/esdb"
	"github.com/consensus-ledger/consensus/eventstore/esdb/esdbtest"
	"github.com/consensus-ledger/consensus/eventstore/sqlite"
)

// TestMaxAppendBytes checks where the store takes the server's
// MaxAppendSize from (the connection string first, then Options, else the
// server's default) and the margin it keeps below it.
func TestMaxAppendBytes(t *testing.T) {
	srv := startServer(t, esdbtest.Options{})
	cases := []struct {
		name     string
		settings string
		opts     esdb.Options
		want     int
	}{
		{"Default", "", esdb.Options{}, esdb.DefaultMaxAppendSize - esdb.DefaultMaxAppendSize/16},
		{"Options", "", esdb.Options{MaxAppendSize: 8 << 20}, 8<<20 - 8<<20/16},
		{"ConnectionString", "&maxAppendSize=4194304", esdb.Options{}, 4<<20 - 4<<20/16},
		{"ConnectionStringWins", "&MaxAppendSize=4194304", esdb.Options{MaxAppendSize: 8 << 20}, 4<<20 - 4<<20/16},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := mustOpen(t, srv.ConnectionString()+tc.settings, tc.opts)
			assert.Equal(t, tc.want, s.MaxAppendBytes())
		})
	}
	for _, bad := range []string{"0", "-1", "1MiB", ""} {
		_, err := esdb.Open(context.Background(), srv.ConnectionString()+"&maxAppendSize="+bad, esdb.Options{})
		require.Error(t, err, "maxAppendSize=%s", bad)
		assert.Contains(t, err.Error(), "maxAppendSize")
	}
}

// TestAppendBytesCountsAsTheServerDoes appends single events to a server
// whose MaxAppendSize is exactly what AppendBytes counts for them: the
// server, counting the same way with the actual recorded time, takes each.
func TestAppendBytesCountsAsTheServerDoes(t *testing.T) {
	for name, meta := range map[string][]byte{
		"JSON":    []byte(`{"recorded_by":"x","source":"import:h.jsonl:12"}`),
		"NotJSON": []byte("\x00\x01 not json"),
		"None":    nil,
	} {
		t.Run(name, func(t *testing.T) {
			e := testEvent(1)
			e.Metadata = meta
			probe := mustOpen(t, startServer(t, esdbtest.Options{}).ConnectionString(), esdb.Options{})
			size := probe.AppendBytes(e)

			srv := startServer(t, esdbtest.Options{MaxAppendSize: size})
			s := mustOpen(t, srv.ConnectionString(), esdb.Options{MaxAppendSize: size})
			_, err := s.Append(context.Background(), "instrument-FIT", eventstore.NoStream, []eventstore.EventData{e})
			require.NoError(t, err)
			two := []eventstore.EventData{testEvent(2), testEvent(3)}
			two[0].Metadata, two[1].Metadata = meta, meta
			_, err = s.Append(context.Background(), "instrument-FIT", 0, two)
			assert.ErrorContains(t, err, "MaxAppendSize", "two events do not fit")
		})
	}
}

// TestCopyFitsTheServersMaxAppendSize copies a stream far larger than one
// append of a server with a small MaxAppendSize: eventstore.Copy cuts its
// pages to fit and the copy verifies against the same chain head.
func TestCopyFitsTheServersMaxAppendSize(t *testing.T) {
	const limit = 8 << 10
	ctx := context.Background()
	source, err := sqlite.Open(filepath.Join(t.TempDir(), "source.db"), sqlite.Options{Now: tickingClock()})
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, source.Close()) })
	evs := make([]eventstore.EventData, 300)
	for i := range evs {
		evs[i] = testEvent(i)
	}
	_, err = source.Append(ctx, "instrument-BIG", eventstore.NoStream, evs)
	require.NoError(t, err)

	srv := startServer(t, esdbtest.Options{MaxAppendSize: limit})
	_, err = eventstore.Copy(ctx, source, mustOpen(t, srv.ConnectionString(), esdb.Options{}), nil)
	require.ErrorContains(t, err, "MaxAppendSize", "a store that believes the server takes 1 MiB")

	server := mustOpen(t, srv.ConnectionString()+"&maxAppendSize="+strconv.Itoa(limit), esdb.Options{})
	var appends int
	sum, err := eventstore.Copy(ctx, source, server, func(p eventstore.CopyProgress) { appends++ })
	require.NoError(t, err)
	assert.Equal(t, eventstore.CopySummary{Streams: 1, Copied: 300}, sum)
	assert.Greater(t, appends, 300*server.AppendBytes(evs[0])/limit, "progress after every append")
	_, want, err := eventstore.VerifyStream(ctx, source, "instrument-BIG")
	require.NoError(t, err)
	n, got, err := eventstore.VerifyStream(ctx, server, "instrument-BIG")
	require.NoError(t, err)
	assert.EqualValues(t, 300, n)
	assert.Equal(t, want, got)
}
