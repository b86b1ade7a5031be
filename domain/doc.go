// Package domain holds the ledger's vocabulary: instruments, analysts, ratings,
// exact money, the two times every event carries, the five event types, and the
// decisions that turn a command plus an instrument's history into new events.
//
// It performs no I/O and imports nothing else of the project, so every rule here
// can be tested exhaustively with plain values.
package domain
