// Package backfill imports files of facts into the ledger (CONTRACT section
// 5): JSON Lines or CSV rows in any order, each validated against the ledger
// as it would be with all the file's valid rows in place at their effective
// times, written in whole batches so an interrupted import leaves nothing
// half-written and a re-run finishes the job, with content-derived ids so a
// re-run writes nothing twice.
//
// An import runs in three steps, each with bounded memory whatever the file's
// size:
//
//  1. Read: a Reader parses the file row by row into domain rows, rejecting
//     malformed rows with their line number, field and reason.
//  2. Sort: valid rows are spooled to temporary files and merge-sorted by
//     instrument and effective time.
//  3. Apply: each instrument's rows are judged, in effective-time order,
//     against its stored history plus the file's rows accepted before them,
//     and appended in batches.
package backfill

import (
	"time"

	"github.com/google/uuid"

	"github.com/consensus-ledger/consensus/domain"
)

// Format is the syntax of an import file.
type Format int

// The two import formats.
const (
	JSONLines Format = iota + 1
	CSV
)

// Line is one row read from an import file.
type Line struct {
	// Number is the row's line in the file, counted from 1, a CSV header
	// included; for a CSV row spanning several lines, its first.
	Number int
	Row    domain.Row
	// ID is the row's explicit `id`, or uuid.Nil when it has none.
	ID uuid.UUID
	// Source is the row's `source` field, "" when it has none.
	Source string
	// Text is the row as it stood in the file (cut to MaxRejectText bytes),
	// for reject reports.
	Text string
	// span is where Text was read from in the file (Reader sets it), so
	// that the sort may keep the place instead of the text (Options.Source).
	span span
}

// Command checks what a row says before it is judged, as every writer of
// rows (the import, POST /api/v1/events) does: the command its fields make
// (domain.Row.Command), its source (free text), and its id, the explicit one
// or else the one derived from its content (domain.ContentID), so that
// writing the same row again writes nothing twice. now bounds effective
// times. A refusal is a *domain.ValidationError naming the field.
func (l *Line) Command(now time.Time) (domain.Command, uuid.UUID, error) {
	cmd, err := l.Row.Command(now)
	if err != nil {
		return nil, uuid.Nil, err
	}
	if err := domain.CheckFreeText("source", l.Source); err != nil {
		return nil, uuid.Nil, err
	}
	id := l.ID
	if id == uuid.Nil {
		if id, err = domain.ContentID(cmd); err != nil {
			return nil, uuid.Nil, err
		}
	}
	return cmd, id, nil
}

// Reject says why one row of a file was not imported. Its JSON form is the
// `--rejects` line format of the contract.
type Reject struct {
	Line   int    `json:"line"`
	Field  string `json:"field"`
	Reason string `json:"reason"`
	Row    string `json:"row"`
	// at is where Row is to be read from, when the sort kept the row's
	// place in the file rather than its text (Options.Source).
	at span
}

// ReaderSentence is a reject of a row reader (Reader.Next, ArrayReader.Next)
// as one sentence: its Reason completes its Field ("price" "is given
// twice"), or, for a fault of the whole row, the row.
func ReaderSentence(r *Reject) string {
	if r.Field == "" {
		return "the row " + r.Reason
	}
	return r.Field + " " + r.Reason
}

// MaxRejectText is how much of a rejected row's text a Reject keeps.
const MaxRejectText = 1024

// MaxLineBytes is the longest row the reader accepts; a longer one is
// rejected (and skipped without being held in memory), and reading goes on
// with the next.
const MaxLineBytes = 1 << 20
