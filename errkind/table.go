package errkind

import (
	"context"
	"errors"

	"github.com/consensus-ledger/consensus/backfill"
	"github.com/consensus-ledger/consensus/disclosures"
	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/ledger"
	"github.com/consensus-ledger/consensus/outfile"
)

// Kinded is an error that states its own kind: one of a type this package
// cannot name, such as the command line's usage error.
type Kinded interface {
	error
	ErrorKind() Kind
}

// rule is one row of the errors table: errors that match are of kind, and
// field names the request field at fault ("" when none).
type rule struct {
	name  string
	kind  Kind
	match func(error) (field string, ok bool)
}

// is matches errors that wrap target, naming field.
func is(target error, field string) func(error) (string, bool) {
	return func(err error) (string, bool) { return field, errors.Is(err, target) }
}

// rules is the one table of errors to kinds, in the order they are tried:
// an error that wraps two of them is of the first one's kind. An error in
// no row is Internal.
var rules = []rule{
	{"domain.ValidationError", Invalid, func(err error) (string, bool) {
		var v *domain.ValidationError
		if errors.As(err, &v) {
			return v.Field, true
		}
		return "", false
	}},
	{"ledger.ErrUnknownInstrument", NotFound, is(ledger.ErrUnknownInstrument, "symbol")},
	{"ledger.ErrUnknownAnalyst", NotFound, is(ledger.ErrUnknownAnalyst, "analyst")},
	{"disclosures.ErrUnknownFirm", NotFound, is(disclosures.ErrUnknownFirm, "firm")},
	{"ledger.ErrConflict", Conflict, is(ledger.ErrConflict, "")},
	{"eventstore.ErrWrongVersion", Conflict, is(eventstore.ErrWrongVersion, "")},
	{"eventstore.ErrDuplicateID", Conflict, is(eventstore.ErrDuplicateID, "id")},
	{"backfill.ErrBadFile", Malformed, is(backfill.ErrBadFile, "")},
	{"eventstore.ErrReadOnly", ReadOnly, is(eventstore.ErrReadOnly, "")},
	{"ledger.ErrNewerVersion", NewerVersion, is(ledger.ErrNewerVersion, "")},
	// The command line's output paths; the server writes files only in the
	// background (checkpoints), where no request is answered with them.
	{"outfile.ErrExists", Invalid, is(outfile.ErrExists, "")},
	{"outfile.ErrProtected", Invalid, is(outfile.ErrProtected, "")},
	{"context.Canceled", Cancelled, is(context.Canceled, "")},
	{"context.DeadlineExceeded", Cancelled, is(context.DeadlineExceeded, "")},
	// A stream recorded ahead of this machine's clock is the operator's
	// to fix (one of the clocks is wrong), not the client's: the API keeps
	// it a 500 with the details in the log, the command line prints them.
	{"eventstore.ErrClockBehind", Internal, is(eventstore.ErrClockBehind, "")},
}

// Of returns the kind of err and the request field at fault ("" when none).
// An error that states its own kind (Kinded) is of that kind; otherwise the
// first row of the table that matches decides; otherwise it is Internal.
func Of(err error) (Kind, string) {
	var k Kinded
	if errors.As(err, &k) {
		return k.ErrorKind(), ""
	}
	for _, r := range rules {
		if field, ok := r.match(err); ok {
			return r.kind, field
		}
	}
	return Internal, ""
}
