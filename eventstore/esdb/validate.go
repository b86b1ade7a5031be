package esdb

import (
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"

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
	if expected < eventstore.Any {
		return fmt.Errorf("expected version %d is neither a version nor NoStream nor Any: %w", expected, eventstore.ErrWrongVersion)
	}
	if len(events) == 0 {
		return eventstore.ErrEmptyBatch
	}
	seen := make(map[uuid.UUID]int, len(events))
	for i, e := range events {
		var problem string
		switch {
		case e.ID == uuid.Nil:
			return fmt.Errorf("event %d of the batch has no id: %w", i, eventstore.ErrInvalidEvent)
		case e.Type == "":
			problem = "has no type"
		case len(e.Data) == 0:
			problem = "has no data"
		case e.EffectiveAt.IsZero():
			problem = "has no effective time"
		case !storable(e.EffectiveAt):
			problem = fmt.Sprintf("has effective time %s, outside the years 1 to 9999 the store can hold", e.EffectiveAt.Format(time.RFC3339Nano))
		}
		if problem != "" {
			return fmt.Errorf("event %s %s: %w", e.ID, problem, eventstore.ErrInvalidEvent)
		}
		if j, dup := seen[e.ID]; dup {
			return fmt.Errorf("event %s is both event %d and event %d of the batch: %w", e.ID, j, i, eventstore.ErrDuplicateID)
		}
		seen[e.ID] = i
	}
	return nil
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

// describe names a stream version for messages.
func describe(v int64) string {
	switch v {
	case int64(eventstore.NoStream):
		return "no stream"
	case int64(eventstore.Any):
		return "any version"
	}
	return fmt.Sprintf("version %d", v)
}
