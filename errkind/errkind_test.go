package errkind_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/backfill"
	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/errkind"
	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/ledger"
	"github.com/consensus-ledger/consensus/outfile"
)

// TestKinds pins every kind's exit status and HTTP status: the numbers
// scripts and clients already rely on (CONTRACT section 4, the OpenAPI
// document).
func TestKinds(t *testing.T) {
	for _, tc := range []struct {
		kind      errkind.Kind
		name      string
		exit      int
		status    int
		serveOnly bool
	}{
		{errkind.Internal, "internal", 1, 500, false},
		{errkind.Usage, "usage", 2, 400, false},
		{errkind.Invalid, "invalid", 1, 422, false},
		{errkind.Malformed, "malformed", 1, 400, false},
		{errkind.NotFound, "not found", 1, 404, false},
		{errkind.Conflict, "conflict", 1, 409, false},
		{errkind.ReadOnly, "read-only", 1, 403, false},
		{errkind.Cancelled, "cancelled", 1, 503, false},
		{errkind.NewerVersion, "newer version", 1, 501, false},
		{errkind.Busy, "busy", 1, 503, true},
		{errkind.Timeout, "timeout", 1, 408, true},
		{errkind.ClientGone, "client gone", 1, 499, true},
		{errkind.TooLarge, "too large", 1, 413, true},
		{errkind.UnsupportedMedia, "unsupported media", 1, 415, true},
		{errkind.Misdirected, "misdirected", 1, 421, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.name, tc.kind.String())
			assert.Equal(t, tc.exit, tc.kind.Exit(), "exit status")
			assert.Equal(t, tc.status, tc.kind.Status(), "HTTP status")
			assert.Equal(t, tc.serveOnly, tc.kind.ServeOnly())
		})
	}
	assert.Equal(t, "internal", errkind.Kind(99).String(), "an unknown kind is treated as internal")
}

// usage stands for the command line's usage error, which states its kind.
type usage struct{}

func (usage) Error() string           { return "missing SYMBOL argument" }
func (usage) ErrorKind() errkind.Kind { return errkind.Usage }

// TestOf runs every error of the table, wrapped as callers wrap them,
// through Of and both mappings.
func TestOf(t *testing.T) {
	clock := &eventstore.ClockError{Last: time.Unix(100, 0), Now: time.Unix(0, 0)}
	existing := filepath.Join(t.TempDir(), "out.csv")
	require.NoError(t, os.WriteFile(existing, nil, 0o600))
	exists := outfile.Check(existing, outfile.Options{Flag: "--out"})
	require.Error(t, exists)
	for _, tc := range []struct {
		name   string
		err    error
		kind   errkind.Kind
		field  string
		exit   int
		status int
		public string // "" means the error's own text
	}{
		{"validation", &domain.ValidationError{Field: "target", Value: "-1", Reason: "must be positive"}, errkind.Invalid, "target", 1, 422, ""},
		{"unknown instrument", ledger.ErrUnknownInstrument, errkind.NotFound, "symbol", 1, 404, ""},
		{"conflict", ledger.ErrConflict, errkind.Conflict, "", 1, 409, ""},
		{"wrong version", eventstore.ErrWrongVersion, errkind.Conflict, "", 1, 409, ""},
		{"duplicate id", eventstore.ErrDuplicateID, errkind.Conflict, "id", 1, 409, ""},
		{"bad file", backfill.ErrBadFile, errkind.Malformed, "", 1, 400, ""},
		{"read-only", eventstore.ErrReadOnly, errkind.ReadOnly, "", 1, 403, "the store is open read-only"},
		{"newer version", ledger.ErrNewerVersion, errkind.NewerVersion, "", 1, 501,
			"the ledger holds events written by a newer version of consensus; this server must be upgraded to read them"},
		{"outfile refusal", exists, errkind.Invalid, "", 1, 422, ""},
		{"outfile exists", outfile.ErrExists, errkind.Invalid, "", 1, 422, ""},
		{"outfile protected", outfile.ErrProtected, errkind.Invalid, "", 1, 422, ""},
		{"cancelled", context.Canceled, errkind.Cancelled, "", 1, 503, "the request was cancelled before it finished"},
		{"deadline", context.DeadlineExceeded, errkind.Cancelled, "", 1, 503, "the request was cancelled before it finished"},
		{"clock ahead", clock, errkind.Internal, "", 1, 500, "internal error; the server's log has the details"},
		{"usage", usage{}, errkind.Usage, "", 2, 400, ""},
		{"anything else", errors.New("disk I/O error"), errkind.Internal, "", 1, 500, "internal error; the server's log has the details"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := fmt.Errorf("record BABA: %w", tc.err)
			kind, field := errkind.Of(err)
			assert.Equal(t, tc.kind, kind, "kind %s", kind)
			assert.Equal(t, tc.field, field, "field")
			assert.Equal(t, tc.exit, kind.Exit(), "exit status")
			assert.Equal(t, tc.status, kind.Status(), "HTTP status")
			want := tc.public
			if want == "" {
				want = err.Error()
			}
			assert.Equal(t, want, kind.Public(err))
		})
	}
}

// TestOfFirstRowWins: an error wrapping two of the table's errors is of
// the kind of the row tried first, as the API always chose.
func TestOfFirstRowWins(t *testing.T) {
	err := fmt.Errorf("%w: %w", eventstore.ErrDuplicateID, &domain.ValidationError{Field: "at", Reason: "is bad"})
	kind, field := errkind.Of(err)
	assert.Equal(t, errkind.Invalid, kind)
	assert.Equal(t, "at", field)
}

func TestSentence(t *testing.T) {
	assert.Equal(t, "one line.", errkind.Sentence("one line"))
	assert.Equal(t, "already ended.", errkind.Sentence("already ended."))
	assert.Equal(t, "two lines.", errkind.Sentence("two\nlines"))
}
