package ledger

import "context"

// streamLock is the lock of one stream's cache. A question can wait on it
// behind another's read of the stream (the first load of a long stream
// takes a while), so taking it for a question heeds the question's
// context, which a sync.Mutex cannot: a cancelled question returns at
// once instead of after the read it waited for.
type streamLock chan struct{}

func newStreamLock() streamLock { return make(streamLock, 1) }

// lockCtx takes the lock, or returns ctx's error when ctx is done first.
func (m streamLock) lockCtx(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case m <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Lock takes the lock, for the short holds that need no context (reading
// a field, adding appended events).
func (m streamLock) Lock() { m <- struct{}{} }

// Unlock releases the lock.
func (m streamLock) Unlock() { <-m }
