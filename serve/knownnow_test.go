package serve_test

import (
	"context"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore/sqlite"
	"github.com/consensus-ledger/consensus/ledger"
	"github.com/consensus-ledger/consensus/serve"
)

// settableClock is a clock a test moves by hand.
type settableClock struct{ nanos atomic.Int64 }

func newSettableClock(t time.Time) *settableClock {
	c := &settableClock{}
	c.nanos.Store(t.UnixNano())
	return c
}

func (c *settableClock) now() time.Time          { return time.Unix(0, c.nanos.Load()).UTC() }
func (c *settableClock) advance(d time.Duration) { c.nanos.Add(int64(d)) }
func (c *settableClock) ahead(d time.Duration) func() time.Time {
	return func() time.Time { return c.now().Add(d) }
}

// recordAhead records a rating on BABA through a second handle on the
// server's store whose clock runs a second ahead of the server's, as a
// command-line process on a machine with a fast clock would: the event is
// recorded "in the future" of the server. The server's hub, asleep for its
// long poll, does not report it.
func recordAhead(t *testing.T, ts *testServer, clk *settableClock, analyst string) {
	t.Helper()
	store, err := sqlite.Open(ts.path, sqlite.Options{Now: clk.ahead(time.Second)})
	require.NoError(t, err)
	defer func() { require.NoError(t, store.Close()) }()
	other := ledger.New(store, ledger.WithClock(clk.ahead(time.Second)))
	cmd, err := domain.Row{Type: domain.RowRating, Instrument: "BABA", Analyst: analyst, Rating: "sell",
		Target: "120", Currency: "USD", At: "2025-09-10"}.Command(now)
	require.NoError(t, err)
	_, err = other.Record(context.Background(), cmd, ledger.WriteOptions{RecordedBy: "cli"})
	require.NoError(t, err)
}

// TestKnownNowFollowsAFutureRecordedTime: an answer "as known now" that
// left out an event recorded just after its now is not served once now
// has reached that event, even though no new event lands to invalidate
// it and the poll interval is long.
func TestKnownNowFollowsAFutureRecordedTime(t *testing.T) {
	t.Parallel()
	clk := newSettableClock(now)
	ts := newServer(t, options{clock: clk.now, config: func(c *serve.Config) { c.PollInterval = time.Hour }})
	recordAhead(t, ts, clk, "ahead@firm")

	path := "/api/v1/instruments/BABA/consensus?as_of=2025-09-11"
	analysts := func() string {
		res := ts.get(t, path)
		require.Equal(t, http.StatusOK, res.status, res.body)
		return text(object(t, res.body)["analysts"])
	}
	assert.Equal(t, "18", analysts(), "recorded a second after now: not known yet")
	clk.advance(500 * time.Millisecond)
	assert.Equal(t, "18", analysts(), "still not known half a second later")
	clk.advance(time.Second)
	assert.Equal(t, "19", analysts(), "known once now passes its recorded time")
}

// TestKnownNowIsNeverStalerThanThePoll: the answer about every instrument
// is not kept "as known now" for longer than the poll interval, whatever
// events it may have left out.
func TestKnownNowIsNeverStalerThanThePoll(t *testing.T) {
	t.Parallel()
	clk := newSettableClock(now)
	const poll = time.Minute
	ts := newServer(t, options{clock: clk.now, config: func(c *serve.Config) { c.PollInterval = poll }})
	recordAhead(t, ts, clk, "ahead@firm")

	path := "/api/v1/consensus?as_of=2025-09-11"
	analysts := func() string {
		res := ts.get(t, path)
		require.Equal(t, http.StatusOK, res.status, res.body)
		rows := array(t, res.body)
		require.Len(t, rows, 2)
		require.Equal(t, "BABA", rows[1]["instrument"])
		return text(rows[1]["analysts"])
	}
	assert.Equal(t, "18", analysts(), "recorded a second after now: not known yet")
	clk.advance(poll)
	assert.Equal(t, "19", analysts(), "a poll interval later, the answer is computed again")
}
