package serve

import (
	"unicode"
	"unicode/utf8"

	"github.com/consensus-ledger/consensus/domain"
)

// isPrintable reports whether s is non-empty and every rune of it is a
// printable character: no control characters and no invisible formatting
// that would make two names look alike.
func isPrintable(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// truncate bounds a name a client made up (an unknown parameter or row
// key) where an answer's "field" repeats it, to as many characters as
// domain.Quote echoes in the message beside it. Messages use domain.Quote.
func truncate(s string) string {
	n := 0
	for i := range s {
		if n == domain.MaxQuotedChars {
			return s[:i] + "…"
		}
		n++
	}
	return s
}
