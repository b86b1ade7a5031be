package esdb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/consensus-ledger/consensus/eventstore"
)

// Resubscription delays after a dropped subscription: the first retry is
// quick, later ones back off so that a server that is down is not hammered.
const (
	firstRetryDelay = 100 * time.Millisecond
	maxRetryDelay   = 5 * time.Second
)

// SubscribeAll implements eventstore.Subscriber with a catch-up
// subscription to $all, filtered on the server to the ledger's streams:
// the stored records after the position, then each new one as it is
// committed.
//
// When the subscription drops because the server became unreachable, the
// leader changed or the connection was lost, it subscribes again from the
// last record delivered (or the last checkpoint the server sent), after a
// delay growing from 100 ms to 5 s, so a long-running reader survives
// restarts and elections without missing or repeating a record. Errors
// that another attempt cannot cure (refused credentials, a record the
// ledger did not write) end it.
func (s *Store) SubscribeAll(ctx context.Context, after eventstore.Position, fn func(eventstore.Record) error) error {
	delay := firstRetryDelay
	for {
		progressed, err := s.subscribeOnce(ctx, &after, fn)
		var fnErr *callbackError
		switch {
		case errors.As(err, &fnErr):
			return fnErr.err
		case ctx.Err() != nil:
			return ctx.Err()
		case !transient(err):
			return fmt.Errorf("subscribe to $all: %w", err)
		}
		if progressed {
			delay = firstRetryDelay
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		delay = min(2*delay, maxRetryDelay)
	}
}

// callbackError carries the error of SubscribeAll's fn, which ends the
// subscription and is returned as it is.
type callbackError struct{ err error }

func (e *callbackError) Error() string { return e.err.Error() }

// transient reports whether a dropped subscription is worth renewing.
func transient(err error) bool {
	var timeout *timeoutError
	switch {
	case errors.Is(err, ErrUnreachable), errors.As(err, &timeout):
		return true
	case errors.Is(err, ErrRefused), errors.Is(err, eventstore.ErrNotLedger), errors.Is(err, ErrStreamDeleted), errors.Is(err, errClosed):
		return false
	}
	switch clientCode(err) {
	case esdb.ErrorUnavailable, esdb.ErrorCodeDeadlineExceeded, esdb.ErrorCodeNotLeader, esdb.ErrorCodeConnectionClosed, esdb.ErrorAborted, esdb.ErrorCodeUnknown:
		return true
	}
	return false
}

// subscribeOnce runs one subscription until it drops, advancing *after
// past every record delivered and every checkpoint. progressed reports
// whether it got that far.
func (s *Store) subscribeOnce(ctx context.Context, after *eventstore.Position, fn func(eventstore.Record) error) (progressed bool, err error) {
	from, first, _, err := s.subscriptionStart(ctx, *after)
	if err != nil {
		return false, err
	}
	if first != nil {
		if err := fn(*first); err != nil {
			return true, &callbackError{err}
		}
		*after = first.Position
		progressed = true
	}
	sub, err := s.subscribe(ctx, from)
	if err != nil {
		return progressed, err
	}
	defer sub.Close()
	for {
		ev := sub.Recv()
		switch {
		case ev.SubscriptionDropped != nil:
			if ctx.Err() != nil {
				return progressed, ctx.Err()
			}
			return progressed, s.translate(sub.client, ev.SubscriptionDropped.Error)
		case ev.CheckPointReached != nil:
			if p := (eventstore.Position{Commit: ev.CheckPointReached.Commit, Prepare: ev.CheckPointReached.Prepare}); after.Less(p) {
				*after = p
			}
		case ev.EventAppeared != nil:
			r, err := decodeRecord(ev.EventAppeared)
			if err != nil {
				return progressed, err
			}
			if !after.Less(r.Position) {
				continue
			}
			if err := fn(r); err != nil {
				return true, &callbackError{err}
			}
			*after = r.Position
			progressed = true
		}
	}
}

// subscription is an open subscription and what it needs released.
type subscription struct {
	*esdb.Subscription
	client  *esdb.Client
	cancel  context.CancelFunc
	release func()
}

// Close ends the subscription.
func (s *subscription) Close() {
	_ = s.Subscription.Close()
	s.cancel()
	s.release()
}

// subscribe opens a filtered subscription to $all within the store's
// timeout; the subscription then lives until ctx ends or it is closed.
func (s *Store) subscribe(ctx context.Context, from esdb.AllPosition) (*subscription, error) {
	c, release, err := s.acquire()
	if err != nil {
		return nil, err
	}
	subCtx, cancel := context.WithCancel(ctx)
	timer := time.AfterFunc(s.timeout, cancel)
	type opened struct {
		sub *esdb.Subscription
		err error
	}
	done := make(chan opened, 1)
	go func() {
		sub, err := c.SubscribeToAll(subCtx, esdb.SubscribeToAllOptions{From: from, Filter: s.filter()})
		done <- opened{sub, err}
	}()
	var o opened
	select {
	case o = <-done:
	case <-subCtx.Done():
		// The client may still hand over a subscription: close it, and let
		// go of the client, once it does.
		go func() {
			if late := <-done; late.sub != nil {
				_ = late.sub.Close()
			}
			release()
		}()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &timeoutError{target: s.target, after: s.timeout}
	}
	timedOut := !timer.Stop() && ctx.Err() == nil
	if o.err != nil || timedOut {
		if o.sub != nil {
			_ = o.sub.Close()
		}
		cancel()
		release()
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case timedOut:
			return nil, &timeoutError{target: s.target, after: s.timeout}
		}
		return nil, s.translate(c, o.err)
	}
	return &subscription{Subscription: o.sub, client: c, cancel: cancel, release: release}, nil
}
