package esdb

import (
	"fmt"
	"strings"
	"time"

	"github.com/consensus-ledger/consensus/eventstore"
)

// storable reports whether t can be written as an RFC 3339 time.
func storable(t time.Time) bool {
	y := t.UTC().Year()
	return !t.IsZero() && y >= 1 && y <= 9999
}

// validate checks a batch before any call to the server.
func validate(stream string, expected eventstore.Version, events []eventstore.EventData) error {
	if err := validStream(stream); err != nil {
		return err
	}
	return eventstore.CheckBatch(stream, expected, events, storable, "1 to 9999")
}

// validStream refuses the names the store cannot write to: the server's
// system streams and the store's own.
func validStream(stream string) error {
	switch {
	case stream == "":
		return fmt.Errorf("no stream name: %w", eventstore.ErrInvalidEvent)
	case strings.HasPrefix(stream, "$"):
		return fmt.Errorf("stream %s: names starting with $ are the server's: %w", stream, eventstore.ErrInvalidEvent)
	case isBookkeeping(stream):
		return fmt.Errorf("stream %s: names starting with %s are the store's own: %w", stream, bookkeepingPrefix, eventstore.ErrInvalidEvent)
	}
	return nil
}
