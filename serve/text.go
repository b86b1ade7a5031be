package serve

import (
	"unicode"
	"unicode/utf8"
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
