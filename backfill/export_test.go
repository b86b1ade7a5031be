package backfill

import "io"

// TextAt reads a line's text back from its file, through the place the
// reader gave it, as a reject of a row sorted without its text does; ok is
// false when the reader gave it none.
func TextAt(src io.ReaderAt, l Line) (text string, ok bool, err error) {
	if l.span.length == 0 {
		return "", false, nil
	}
	text, err = textAt(src, l.span)
	return text, true, err
}

// WithoutPlace is l without its place in the file, for comparing lines.
func WithoutPlace(l Line) Line {
	l.span = span{}
	return l
}
