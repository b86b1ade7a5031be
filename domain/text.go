package domain

import (
	"fmt"
	"unicode"
	"unicode/utf8"
)

// MaxFreeTextLength bounds the free text a writer attaches to an event: a
// retraction's reason, an event's source.
const MaxFreeTextLength = 1000

// CheckFreeText checks free text a writer attaches to an event (field names
// it in the error): at most MaxFreeTextLength characters, each printable or
// a space. Control characters are refused because auditors read the ledger
// on terminals, which would obey an escape sequence hidden in a reason
// (clear the screen, overwrite the line above); bidirectional overrides and
// other invisible formatting characters because they make stored text read
// differently from what it is.
func CheckFreeText(field, text string) error {
	if n := utf8.RuneCountInString(text); n > MaxFreeTextLength {
		return invalid(field, truncateRunes(text, 40)+"…", fmt.Sprintf("is %d characters long; at most %d are allowed", n, MaxFreeTextLength))
	}
	for _, r := range text {
		if r == utf8.RuneError || !unicode.IsGraphic(r) {
			return invalid(field, text, "must be printable text on one line: no control, formatting or invalid characters")
		}
	}
	return nil
}

// truncateRunes cuts s to at most n characters, never inside one.
func truncateRunes(s string, n int) string {
	for i := range s {
		if n == 0 {
			return s[:i]
		}
		n--
	}
	return s
}
