// Package errkind owns the one vocabulary of failures the product speaks:
// every error the ledger's packages return is of one kind (usage, invalid,
// malformed, not found, conflict, read-only, cancelled, internal), and each
// kind has one exit status for the command line (CONTRACT section 4) and one
// HTTP status for the API. The command line (cmd/consensus) and the server
// (serve) both ask this package, so a refusal cannot mean 1 in one place and
// 500 in the other by accident.
//
// The table of which error is which kind is in table.go; the kinds and their
// codes are in kind.go. Errors of types this package cannot see (the command
// line's usage errors) state their own kind with an ErrorKind method.
//
// It does no I/O; it imports the packages whose errors it names, and none of
// them imports it.
package errkind
