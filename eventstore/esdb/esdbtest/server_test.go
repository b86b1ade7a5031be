package esdbtest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/consensus-ledger/consensus/eventstore/esdb/esdbtest"
)

// These tests hold the test server to the server's documented behaviour,
// through the real client, so the backend's tests can trust it.

func start(t *testing.T, opts esdbtest.Options) *esdb.Client {
	t.Helper()
	srv, err := esdbtest.Start(opts)
	require.NoError(t, err)
	t.Cleanup(func() { assert.NoError(t, srv.Close()) })
	cfg, err := esdb.ParseConnectionString(srv.ConnectionString())
	require.NoError(t, err)
	cfg.Logger = esdb.NoopLogging()
	c, err := esdb.NewClient(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func event(n int) esdb.EventData {
	return esdb.EventData{EventID: uuid.New(), EventType: "Tested", ContentType: esdb.ContentTypeJson, Data: []byte(fmt.Sprintf(`{"n":%d}`, n))}
}

func code(err error) esdb.ErrorCode {
	var e *esdb.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return -1
}

func appendTo(t *testing.T, c *esdb.Client, stream string, expected esdb.ExpectedRevision, n int) (*esdb.WriteResult, error) {
	t.Helper()
	evs := make([]esdb.EventData, n)
	for i := range evs {
		evs[i] = event(i)
	}
	return c.AppendToStream(context.Background(), stream, esdb.AppendToStreamOptions{ExpectedRevision: expected}, evs...)
}

func read(t *testing.T, c *esdb.Client, stream string, opts esdb.ReadStreamOptions, n uint64) ([]*esdb.ResolvedEvent, error) {
	t.Helper()
	rs, err := c.ReadStream(context.Background(), stream, opts, n)
	require.NoError(t, err)
	defer rs.Close()
	var out []*esdb.ResolvedEvent
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, ev)
	}
}

func readAll(t *testing.T, c *esdb.Client, from esdb.AllPosition, n uint64) []*esdb.ResolvedEvent {
	t.Helper()
	rs, err := c.ReadAll(context.Background(), esdb.ReadAllOptions{From: from}, n)
	require.NoError(t, err)
	defer rs.Close()
	var out []*esdb.ResolvedEvent
	for {
		ev, err := rs.Recv()
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		out = append(out, ev)
	}
}

func TestExpectedRevisions(t *testing.T) {
	c := start(t, esdbtest.Options{})
	res, err := appendTo(t, c, "s", esdb.NoStream{}, 2)
	require.NoError(t, err)
	assert.EqualValues(t, 1, res.NextExpectedVersion, "revisions count from 0")

	cases := []struct {
		name     string
		expected esdb.ExpectedRevision
		ok       bool
	}{
		{"NoStreamOnExisting", esdb.NoStream{}, false},
		{"Stale", esdb.Revision(0), false},
		{"Ahead", esdb.Revision(2), false},
		{"Current", esdb.Revision(1), true},
		{"StreamExists", esdb.StreamExists{}, true},
		{"Any", esdb.Any{}, true},
	}
	for _, tc := range cases {
		_, err := appendTo(t, c, "s", tc.expected, 1)
		if tc.ok {
			assert.NoError(t, err, tc.name)
		} else {
			assert.Equal(t, esdb.ErrorCodeWrongExpectedVersion, code(err), tc.name)
		}
	}
	_, err = appendTo(t, c, "missing", esdb.StreamExists{}, 1)
	assert.Equal(t, esdb.ErrorCodeWrongExpectedVersion, code(err))
	_, err = appendTo(t, c, "missing", esdb.Revision(0), 1)
	assert.Equal(t, esdb.ErrorCodeWrongExpectedVersion, code(err))
}

func TestStreamReads(t *testing.T) {
	c := start(t, esdbtest.Options{})
	_, err := appendTo(t, c, "s", esdb.NoStream{}, 5)
	require.NoError(t, err)

	evs, err := read(t, c, "s", esdb.ReadStreamOptions{From: esdb.Revision(1)}, 3)
	require.NoError(t, err)
	require.Len(t, evs, 3)
	for i, ev := range evs {
		assert.EqualValues(t, 1+i, ev.Event.EventNumber)
		assert.Equal(t, "Tested", ev.Event.EventType)
		assert.Equal(t, "application/json", ev.Event.ContentType)
		assert.WithinDuration(t, time.Now(), ev.Event.CreatedDate, time.Minute)
	}
	evs, err = read(t, c, "s", esdb.ReadStreamOptions{From: esdb.Revision(9)}, 3)
	assert.NoError(t, err)
	assert.Empty(t, evs, "past the end")

	evs, err = read(t, c, "s", esdb.ReadStreamOptions{Direction: esdb.Backwards, From: esdb.End{}}, 2)
	require.NoError(t, err)
	require.Len(t, evs, 2)
	assert.EqualValues(t, 4, evs[0].Event.EventNumber)
	assert.EqualValues(t, 3, evs[1].Event.EventNumber)

	_, err = read(t, c, "never-written", esdb.ReadStreamOptions{From: esdb.Start{}}, 1)
	assert.Equal(t, esdb.ErrorCodeResourceNotFound, code(err))
}

func TestPositionsAndAllReads(t *testing.T) {
	c := start(t, esdbtest.Options{})
	_, err := appendTo(t, c, "a", esdb.NoStream{}, 2)
	require.NoError(t, err)
	_, err = appendTo(t, c, "b", esdb.NoStream{}, 1)
	require.NoError(t, err)

	all := readAll(t, c, esdb.Start{}, 100)
	require.GreaterOrEqual(t, len(all), 4)
	assert.Equal(t, byte('$'), all[0].Event.StreamID[0], "the log starts with system events")
	for i, ev := range all {
		p := ev.Event.Position
		assert.Equal(t, p.Commit, p.Prepare, "one self-committed record per event")
		if i > 0 {
			assert.Greater(t, p.Commit, all[i-1].Event.Position.Commit)
		}
	}
	last := all[len(all)-1].Event.Position
	from := readAll(t, c, last, 10)
	require.Len(t, from, 1, "a forward read includes the record at its position")
	assert.Equal(t, last, from[0].Event.Position)
	between := readAll(t, c, esdb.Position{Commit: last.Commit, Prepare: last.Prepare - 1}, 10)
	require.Len(t, between, 1)
	assert.Empty(t, readAll(t, c, esdb.End{}, 10))
}

// TestFilteredSubscription checks a catch-up subscription to $all filtered
// on a stream prefix: stored events, checkpoints, CaughtUp, live events.
func TestFilteredSubscription(t *testing.T) {
	c := start(t, esdbtest.Options{})
	for i := 0; i < 3; i++ {
		_, err := appendTo(t, c, fmt.Sprintf("keep-%d", i), esdb.Any{}, 1)
		require.NoError(t, err)
		_, err = appendTo(t, c, fmt.Sprintf("skip-%d", i), esdb.Any{}, 2)
		require.NoError(t, err)
	}
	sub, err := c.SubscribeToAll(context.Background(), esdb.SubscribeToAllOptions{
		From: esdb.Start{}, MaxSearchWindow: 2, Filter: &esdb.SubscriptionFilter{Type: esdb.StreamFilterType, Prefixes: []string{"keep-"}},
	})
	require.NoError(t, err)
	defer sub.Close()

	var streams []string
	checkpoints := 0
	for caughtUp := false; !caughtUp; {
		ev := sub.Recv()
		switch {
		case ev.EventAppeared != nil:
			streams = append(streams, ev.EventAppeared.Event.StreamID)
		case ev.CheckPointReached != nil:
			checkpoints++
		case ev.CaughtUp != nil:
			caughtUp = true
		case ev.SubscriptionDropped != nil:
			t.Fatal(ev.SubscriptionDropped.Error)
		}
	}
	assert.Equal(t, []string{"keep-0", "keep-1", "keep-2"}, streams)
	assert.Positive(t, checkpoints, "a checkpoint every search window of events considered")

	_, err = appendTo(t, c, "skip-live", esdb.Any{}, 1)
	require.NoError(t, err)
	_, err = appendTo(t, c, "keep-live", esdb.Any{}, 1)
	require.NoError(t, err)
	for {
		ev := sub.Recv()
		require.Nil(t, ev.SubscriptionDropped)
		if ev.EventAppeared != nil {
			assert.Equal(t, "keep-live", ev.EventAppeared.Event.StreamID)
			break
		}
	}
}

// TestSubscriptionFromAPosition checks that, as on the server, a
// subscription from a position skips the first record at or after it.
func TestSubscriptionFromAPosition(t *testing.T) {
	c := start(t, esdbtest.Options{})
	_, err := appendTo(t, c, "p", esdb.NoStream{}, 3)
	require.NoError(t, err)
	evs, err := read(t, c, "p", esdb.ReadStreamOptions{From: esdb.Start{}}, 3)
	require.NoError(t, err)
	first := func(from esdb.Position) uint64 {
		sub, err := c.SubscribeToAll(context.Background(), esdb.SubscribeToAllOptions{From: from})
		require.NoError(t, err)
		defer sub.Close()
		for {
			ev := sub.Recv()
			require.Nil(t, ev.SubscriptionDropped)
			if ev.EventAppeared != nil {
				return ev.EventAppeared.Event.EventNumber
			}
		}
	}
	p0 := evs[0].Event.Position
	assert.EqualValues(t, 1, first(p0), "from a record's position: after it")
	assert.EqualValues(t, 1, first(esdb.Position{Commit: p0.Commit, Prepare: p0.Prepare - 1}), "from just before a record: after it too")
}

func TestTombstone(t *testing.T) {
	c := start(t, esdbtest.Options{})
	_, err := appendTo(t, c, "t", esdb.NoStream{}, 1)
	require.NoError(t, err)
	_, err = c.TombstoneStream(context.Background(), "t", esdb.TombstoneStreamOptions{ExpectedRevision: esdb.Any{}})
	require.NoError(t, err)
	_, err = read(t, c, "t", esdb.ReadStreamOptions{From: esdb.Start{}}, 1)
	assert.Equal(t, esdb.ErrorCodeStreamDeleted, code(err))
	_, err = appendTo(t, c, "t", esdb.Any{}, 1)
	assert.Equal(t, esdb.ErrorCodeStreamDeleted, code(err))
	all := readAll(t, c, esdb.Start{}, 100)
	assert.Equal(t, "$streamDeleted", all[len(all)-1].Event.EventType)
}

// TestMaxAppendSize checks the server's count of an append (data, metadata
// and twice the type's length, Event.SizeOnDisk) against its limit, and its
// refusal: InvalidArgument, nothing written.
func TestMaxAppendSize(t *testing.T) {
	c := start(t, esdbtest.Options{MaxAppendSize: 100})
	sized := func(data, meta int) esdb.EventData { // type "Big": counts 6
		return esdb.EventData{EventID: uuid.New(), EventType: "Big", Data: make([]byte, data), Metadata: make([]byte, meta)}
	}
	_, err := c.AppendToStream(context.Background(), "fits", esdb.AppendToStreamOptions{ExpectedRevision: esdb.Any{}},
		sized(40, 4), sized(40, 4))
	require.NoError(t, err, "exactly 100 bytes")

	_, err = c.AppendToStream(context.Background(), "big", esdb.AppendToStreamOptions{ExpectedRevision: esdb.Any{}},
		sized(40, 4), sized(40, 5))
	require.Error(t, err)
	assert.Equal(t, codes.InvalidArgument, status.Code(errors.Unwrap(err)), "%v", err)
	_, err = read(t, c, "big", esdb.ReadStreamOptions{From: esdb.Start{}}, 1)
	assert.Equal(t, esdb.ErrorCodeResourceNotFound, code(err), "nothing written")
}

func TestInvalidPositionsAreRefused(t *testing.T) {
	c := start(t, esdbtest.Options{})
	rs, err := c.ReadAll(context.Background(), esdb.ReadAllOptions{From: esdb.Position{Commit: 10, Prepare: 11}}, 1)
	require.NoError(t, err)
	defer rs.Close()
	_, err = rs.Recv()
	assert.Error(t, err, "a prepare position after the commit position")
	_, err = c.SubscribeToAll(context.Background(), esdb.SubscribeToAllOptions{From: esdb.Position{Commit: 10, Prepare: 11}})
	assert.Error(t, err)
}
