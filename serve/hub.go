package serve

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/consensus-ledger/consensus/eventstore"
)

// subscriberBuffer is how many records a stream client may fall behind by
// before the hub drops it; the client then reconnects with Last-Event-ID
// and catches up from the store, so a slow client never holds up others.
const subscriberBuffer = 256

// pollPage is how many records one poll reads at most.
const pollPage = 1024

// hub follows the records the store commits after the server started,
// whoever writes them (this server, the command line, an import), and
// passes each to the answer cache and to the event-stream subscribers. It
// uses the store's push (eventstore.Subscriber) when it has one, and polls
// ReadAll otherwise.
type hub struct {
	store    eventstore.Store
	poll     time.Duration
	log      *slog.Logger
	onRecord func(eventstore.Record) // called for each record, before subscribers see it
	// frame makes the bytes a subscriber is sent for a record (nil to send
	// nothing). It is called once per record that some subscriber follows,
	// however many do, and never for a record none follows: its actions
	// need the instrument's history.
	frame func(context.Context, eventstore.Record) []byte
	// onFollowing is called with true after each successful read of the
	// store and with false after each failed one: while reads fail, records
	// may land unseen, so the answer cache must not be trusted.
	onFollowing func(bool)
	wakeCh      chan struct{}

	mu     sync.Mutex
	head   eventstore.Position // the last record passed on
	live   bool                // head is known: records are being followed
	closed bool
	subs   map[*subscription]struct{}
}

// subscription is one event-stream client's feed.
type subscription struct {
	stream string        // only records of this stream; "" for all
	frames chan []byte   // each record's frame, shared with the other subscribers: read only
	done   chan struct{} // closed when the hub drops the subscription
	once   sync.Once
}

func (s *subscription) drop() { s.once.Do(func() { close(s.done) }) }

func newHub(store eventstore.Store, poll time.Duration, log *slog.Logger) *hub {
	return &hub{store: store, poll: poll, log: log, onRecord: func(eventstore.Record) {}, onFollowing: func(bool) {},
		frame:  func(context.Context, eventstore.Record) []byte { return nil },
		wakeCh: make(chan struct{}, 1), subs: map[*subscription]struct{}{}}
}

// errNotFollowing is returned by subscribe while the hub is not following
// the store: starting up, or shutting down.
var errNotFollowing = errors.New("the event stream is not available yet; retry shortly")

// subscribe adds a subscriber and returns the position from which it will
// receive records: those after it arrive on the subscription.
func (h *hub) subscribe(stream string) (*subscription, eventstore.Position, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.live || h.closed {
		return nil, eventstore.Position{}, errNotFollowing
	}
	s := &subscription{stream: stream, frames: make(chan []byte, subscriberBuffer), done: make(chan struct{})}
	h.subs[s] = struct{}{}
	return s, h.head, nil
}

func (h *hub) unsubscribe(s *subscription) {
	h.mu.Lock()
	delete(h.subs, s)
	h.mu.Unlock()
	s.drop()
}

// following reports whether the hub knows the store's head and follows it.
func (h *hub) following() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.live && !h.closed
}

// closeAll ends every subscription and refuses new ones: on shutdown,
// stream clients must let go so the server can stop.
func (h *hub) closeAll() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	for s := range h.subs {
		s.drop()
		delete(h.subs, s)
	}
}

// wake makes a polling hub read the store now rather than at its next
// tick: this server's own writes reach stream clients at once.
func (h *hub) wake() {
	select {
	case h.wakeCh <- struct{}{}:
	default:
	}
}

// publish passes one record on. The subscribers that follow it are taken
// under the lock, where head moves past the record (one who subscribes
// after that starts after it); its frame is made once, outside the lock,
// since it may read the store; then each of them is sent the same frame.
func (h *hub) publish(ctx context.Context, r eventstore.Record) {
	h.onRecord(r)
	h.mu.Lock()
	h.head = r.Position
	var to []*subscription
	for s := range h.subs {
		if s.stream == "" || s.stream == r.Stream {
			to = append(to, s)
		}
	}
	h.mu.Unlock()
	if len(to) == 0 {
		return
	}
	frame := h.frame(ctx, r)
	if frame == nil {
		return
	}
	for _, s := range to {
		select {
		case s.frames <- frame:
		default: // too slow: let it reconnect and catch up from the store
			h.unsubscribe(s)
		}
	}
}

// run follows the store until ctx is done.
func (h *hub) run(ctx context.Context) {
	for ctx.Err() == nil {
		head, err := headPosition(ctx, h.store)
		if err == nil {
			h.mu.Lock()
			h.head, h.live = head, true
			h.mu.Unlock()
			break
		}
		h.failed(ctx, "find the store's last event", err)
	}
	for ctx.Err() == nil {
		var err error
		if sub, ok := eventstore.AsSubscriber(h.store); ok {
			h.onFollowing(true)
			err = sub.SubscribeAll(ctx, h.position(), func(r eventstore.Record) error { h.publish(ctx, r); return nil })
		} else {
			err = h.pollOnce(ctx)
		}
		if err != nil && ctx.Err() == nil {
			h.failed(ctx, "follow the store", err)
		}
	}
}

func (h *hub) position() eventstore.Position {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.head
}

// pollOnce reads what landed since the last record and publishes it, then
// waits for the next tick (unless a full page suggests more is waiting).
func (h *hub) pollOnce(ctx context.Context) error {
	recs, err := h.store.ReadAll(ctx, h.position(), pollPage)
	if err != nil {
		return err
	}
	for _, r := range recs {
		h.publish(ctx, r)
	}
	if len(recs) == pollPage {
		return nil // more is waiting
	}
	h.onFollowing(true) // caught up: every record committed before this read was passed on
	timer := time.NewTimer(h.poll)
	defer timer.Stop()
	select {
	case <-ctx.Done():
	case <-timer.C:
	case <-h.wakeCh:
	}
	return nil
}

// failed logs a failed read of the store and waits a little before the
// next attempt, so a broken store is not hammered.
func (h *hub) failed(ctx context.Context, what string, err error) {
	h.onFollowing(false)
	h.log.Warn("cannot "+what+"; retrying", slog.Any("error", err))
	select {
	case <-ctx.Done():
	case <-time.After(time.Second):
	}
}
