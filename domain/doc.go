// Package domain holds the ledger's vocabulary: instruments, analysts, ratings,
// exact money, the two times every event carries, the five event types, and the
// decisions that turn a command plus an instrument's history into new events.
//
// It owns the rules every front end shares, so each is stated once: parsing
// and validating values (ValidationError names the field at fault), the
// canonical JSON of each event (codec.go, with a fast decoder of the same
// form), the judgement of a command or an import row against the history as
// of its effective time (Decide, DecideAt, Row), and the bitemporal fold of
// CONTRACT section 3 (Timeline, Cursor, State) with its point-in-time read
// model (Index).
//
// It performs no I/O and imports nothing else of the project, so every rule here
// can be tested exhaustively with plain values.
package domain
