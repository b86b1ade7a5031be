package serve

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/consensus-ledger/consensus/errkind"
)

// Defaults of the limits on concurrent work.
const (
	// DefaultMaxExpensive is how many requests whose cost grows with the
	// request (histories, charts, logs, lists of every instrument, imports)
	// run at once. Each may hold some 100 MB at its largest (a 50,000-row
	// history, see docs/operations.md), and on a few cores more at once
	// would only share the same CPUs more slowly.
	DefaultMaxExpensive = 4
	// DefaultMaxStreams is how many event-stream clients are served at
	// once. Each holds a file descriptor for as long as it stays; 256 leaves
	// most of a common `ulimit -n` of 1024 to everything else.
	DefaultMaxStreams = 256
)

// expensiveWait is how long an expensive request waits for a slot before it
// is refused: long enough to absorb a page loading its parts together, short
// enough that waiting requests never pile up behind a slow one.
const expensiveWait = 250 * time.Millisecond

// gate admits at most a fixed number of requests of one kind at once and
// refuses the rest with 503 and Retry-After, after waiting at most wait for
// one to leave. Refusing costs nothing: the request's body is not read.
type gate struct {
	slots      chan struct{}
	wait       time.Duration
	retryAfter int    // seconds
	refusal    string // the sentence a refused client reads
	refused    atomic.Uint64
}

func newGate(n int, wait time.Duration, retryAfter int, refusal string) *gate {
	return &gate{slots: make(chan struct{}, n), wait: wait, retryAfter: retryAfter, refusal: refusal}
}

// enter takes a slot, waiting at most g.wait for one; it returns an
// apiError (503 with Retry-After) when none came free, or the context's
// error when the client went away. Each successful enter needs one leave.
func (g *gate) enter(ctx context.Context) error {
	select {
	case g.slots <- struct{}{}:
		return nil
	default:
	}
	if g.wait > 0 {
		timer := time.NewTimer(g.wait)
		defer timer.Stop()
		select {
		case g.slots <- struct{}{}:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-timer.C:
		}
	}
	g.refused.Add(1)
	return &apiError{status: errkind.Busy.Status(), msg: g.refusal, retryAfter: g.retryAfter}
}

func (g *gate) leave() { <-g.slots }

// inUse is how many requests hold a slot now.
func (g *gate) inUse() int { return len(g.slots) }

// limit is how many may hold one at once.
func (g *gate) limit() int { return cap(g.slots) }

// newGates makes the server's gates from its configuration.
func newGates(cfg Config) (expensive, imports, streams *gate) {
	expensive = newGate(cfg.MaxExpensive, expensiveWait, 1,
		fmt.Sprintf("the server is busy: %d expensive requests (histories, charts, logs, lists of every instrument, imports) "+
			"are running, the most it runs at once; retry in a second", cfg.MaxExpensive))
	// One import at a time: each holds a sort's chunk in memory, and they
	// would only queue on the store's write lock anyway.
	imports = newGate(1, expensiveWait, 10,
		"another import is running, and the server runs one at a time; retry when it has finished")
	streams = newGate(cfg.MaxStreams, 0, 10,
		fmt.Sprintf("the server already serves %d event streams, the most it serves at once (serve --max-streams); retry later", cfg.MaxStreams))
	return expensive, imports, streams
}
