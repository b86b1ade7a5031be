package eventstore

import (
	"fmt"
	"time"

	"github.com/google/uuid"
)

// CheckBatch checks a batch the way every backend must before any I/O, so
// an invalid batch never takes a lock or reaches a server: a stream name, a
// valid expectation, at least one event, each with an id, a type, data and
// an effective time the backend can hold (fits says which; years names the
// range for the message), and no id twice.
func CheckBatch(stream string, expected Version, events []EventData, fits func(time.Time) bool, years string) error {
	if stream == "" {
		return fmt.Errorf("no stream name: %w", ErrInvalidEvent)
	}
	if expected < Any {
		return fmt.Errorf("expected version %d is neither a version nor NoStream nor Any: %w", expected, ErrWrongVersion)
	}
	if len(events) == 0 {
		return ErrEmptyBatch
	}
	seen := make(map[uuid.UUID]int, len(events))
	for i, e := range events {
		var problem string
		switch {
		case e.ID == uuid.Nil:
			return fmt.Errorf("event %d of the batch has no id: %w", i, ErrInvalidEvent)
		case e.Type == "":
			problem = "has no type"
		case len(e.Data) == 0:
			problem = "has no data"
		case e.EffectiveAt.IsZero():
			problem = "has no effective time"
		case !fits(e.EffectiveAt):
			problem = fmt.Sprintf("has effective time %s, outside the years %s the store can hold", e.EffectiveAt.Format(time.RFC3339Nano), years)
		}
		if problem != "" {
			return fmt.Errorf("event %s %s: %w", e.ID, problem, ErrInvalidEvent)
		}
		if j, dup := seen[e.ID]; dup {
			return fmt.Errorf("event %s is both event %d and event %d of the batch: %w", e.ID, j, i, ErrDuplicateID)
		}
		seen[e.ID] = i
	}
	return nil
}

// DescribeVersion names a stream version for messages.
func DescribeVersion(v int64) string {
	switch v {
	case int64(NoStream):
		return "no stream"
	case int64(Any):
		return "any version"
	}
	return fmt.Sprintf("version %d", v)
}

// ErrNotNext is the refusal of copied records whose first version does not
// continue the stream; it wraps ErrInvalidEvent. A backend may still find
// them to be a replay of records it holds.
var ErrNotNext = fmt.Errorf("the records are not the stream's next: %w", ErrInvalidEvent)

// CheckCopies checks what can be checked of copied records (Copier) before
// any I/O: that they belong to stream, are consecutive, each matches its
// own hash and links to the one before, none is recorded before the one
// before, and the backend can hold every recorded time (fits).
func CheckCopies(stream string, records []Record, fits func(time.Time) bool) error {
	if len(records) == 0 {
		return ErrEmptyBatch
	}
	first := records[0].Version
	if first < 0 {
		return fmt.Errorf("record %s has version %d: %w", records[0].ID, first, ErrInvalidEvent)
	}
	for i, r := range records {
		fail := func(problem string) error {
			return fmt.Errorf("record %s (version %d) %s: %w", r.ID, r.Version, problem, ErrInvalidEvent)
		}
		switch {
		case r.Stream != "" && r.Stream != stream:
			return fail("belongs to stream " + r.Stream)
		case r.Version != first+int64(i):
			return fail(fmt.Sprintf("is not version %d: the records are not consecutive", first+int64(i)))
		case !fits(r.RecordedAt):
			return fail("has no recorded time the store can hold")
		case RecordHash(r.PrevHash, r) != r.Hash:
			return fail("does not match its hash: its content or times differ from the copied record's")
		}
		if i > 0 {
			switch prev := records[i-1]; {
			case r.PrevHash != prev.Hash:
				return fail("does not link to the previous record's hash")
			case r.RecordedAt.Before(prev.RecordedAt):
				return fail("was recorded before the previous record")
			}
		}
	}
	return nil
}

// CheckCopiesContinue checks that copied records, already checked with
// CheckCopies, continue a stream whose last record has the given version,
// hash and recorded time (version -1 and a zero hash for an empty stream).
// A wrong first version wraps ErrNotNext.
func CheckCopiesContinue(records []Record, version int64, hash [32]byte, recordedAt time.Time) error {
	first := records[0]
	switch {
	case first.Version != version+1:
		return fmt.Errorf("record %s is version %d but the stream is at %s: %w", first.ID, first.Version, DescribeVersion(version), ErrNotNext)
	case first.PrevHash != hash:
		return fmt.Errorf("record %s (version %d) does not link to the hash of the stream's last record: %w", first.ID, first.Version, ErrInvalidEvent)
	case first.RecordedAt.Before(recordedAt):
		return fmt.Errorf("record %s (version %d) was recorded at %s, before the stream's last record (%s): %w",
			first.ID, first.Version, first.RecordedAt.Format(time.RFC3339Nano), recordedAt.Format(time.RFC3339Nano), ErrInvalidEvent)
	}
	return nil
}
