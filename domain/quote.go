package domain

import (
	"strconv"
	"unicode/utf8"
)

// MaxQuotedChars is how many characters of a value an error message echoes.
// A value is echoed so the user sees what was refused; a value of 60 KB (a
// pasted file, a hostile query) echoed whole would make a 60 KB message.
const MaxQuotedChars = 64

// Quote renders a value someone gave for an error message: Go-quoted, so
// control characters and invalid bytes show as escapes rather than acting
// on the terminal, and when longer than MaxQuotedChars cut to its first
// characters, followed by an ellipsis and its length, so the message stays
// one short line and still says how much was sent. Every message that
// echoes input uses it, ValidationError's included.
func Quote(s string) string {
	if len(s) <= MaxQuotedChars { // at most as many characters as bytes
		return strconv.Quote(s)
	}
	n := utf8.RuneCountInString(s)
	if n <= MaxQuotedChars {
		return strconv.Quote(s)
	}
	return strconv.Quote(truncateRunes(s, MaxQuotedChars)) + "… (" + strconv.Itoa(n) + " characters)"
}

// Shorten is s cut to MaxQuotedChars characters, with an ellipsis where it
// was cut: for a value someone gave that an answer repeats outside a
// message (the "field" of an API error naming an unknown parameter), bound
// as Quote bounds it inside one.
func Shorten(s string) string {
	if t := truncateRunes(s, MaxQuotedChars); len(t) < len(s) {
		return t + "…"
	}
	return s
}
