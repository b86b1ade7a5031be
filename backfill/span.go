package backfill

import (
	"errors"
	"fmt"
	"hash/crc32"
	"io"
)

// A row's text is kept for the reject it may become once it is judged,
// after the sort. The sort writes every valid row to temporary files and
// reads it back, and the text was about two thirds of what it wrote (137 of
// some 210 bytes a row of the generated million-row file); sorting the rows
// without it took 0.4-1 s off that file's import (docs/performance.md). So
// when the file can be read again (Options.Source), the sort keeps where
// each row lies in it instead, and a reject reads its text back from there.

// span is where a row lies in its file: the offset of its first byte, its
// length without the line's terminator, and a checksum of the bytes a
// reject's text is made of (spanBytes of them at most), so that a file
// changed during the import is found out rather than quoted wrongly.
// length 0 means unknown (a row of an API request's array).
type span struct {
	offset int64
	length int
	sum    uint32
}

// spanBytes is how much of a row its reject's text is made of: rejectText
// cuts a row to MaxRejectText bytes at a character's start, for which it
// looks at the byte after them.
const spanBytes = MaxRejectText + 1

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// spanOf is the span of row, the bytes of a row read from offset, without
// the line's terminator.
func spanOf(offset int64, row []byte) span {
	return span{offset: offset, length: len(row), sum: crc32.Checksum(row[:min(len(row), spanBytes)], castagnoli)}
}

// errFileChanged is a reject's text that no longer reads back as it did.
var errFileChanged = errors.New("the import file changed while it was imported")

// textAt reads back from src the text of the row at sp, as the reader made
// Line.Text of it (rejectText), and checks it is the text that was read.
func textAt(src io.ReaderAt, sp span) (string, error) {
	b := make([]byte, min(sp.length, spanBytes))
	if n, err := src.ReadAt(b, sp.offset); n < len(b) {
		if err == nil || err == io.EOF {
			err = errFileChanged // shorter than when it was read
		}
		return "", err
	}
	if crc32.Checksum(b, castagnoli) != sp.sum {
		return "", errFileChanged
	}
	return rejectText(b), nil
}

// rowText is a reject's text: its Row, or else read back from the file.
func (s *Sorted) rowText(r *Reject) error {
	if r.Row != "" || r.at.length == 0 || s.opts.Source == nil {
		return nil
	}
	text, err := textAt(s.opts.Source, r.at)
	if err != nil {
		return fmt.Errorf("line %d, rejected, cannot be quoted: %w", r.Line, err)
	}
	r.Row = text
	return nil
}
