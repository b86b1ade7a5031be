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

// truncate cuts what a client sent to n bytes for an error message, so a
// huge parameter cannot make a huge answer.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
