package domain

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Symbol names one listing, such as BABA or 9988.HK. It is 1 to 20 characters
// of A-Z, 0-9, '.' and '-', the first a letter or digit, always upper case.
type Symbol string

// StreamPrefix starts the name of every instrument's event stream.
const StreamPrefix = "instrument-"

// ParseSymbol upper-cases text and checks it is a valid symbol. Every path
// that takes a symbol from a user (command line, import row, API path or
// row) goes through it.
func ParseSymbol(text string) (Symbol, error) {
	s := strings.TrimSpace(text)
	if s == "" {
		return "", invalid("symbol", text, "must not be empty")
	}
	if reason := symbolFault(s); reason != "" {
		return "", invalid("symbol", text, reason)
	}
	// A symbol that starts with '.' or '-' (".", "..", "-2-3") cannot be
	// named in a URL path, where "." and ".." are path steps, and reads as
	// a flag on the command line.
	if c := s[0]; c == '.' || c == '-' {
		return "", invalid("symbol", text, "must start with a letter or digit")
	}
	return Symbol(strings.ToUpper(s)), nil
}

// symbolFault says why s is not made of symbol characters, or "" when it
// is. It is the rule that stored symbols obey: events recorded before
// symbols had to start with a letter or digit keep being readable.
func symbolFault(s string) string {
	// Check the characters before upper-casing: strings.ToUpper maps some
	// non-ASCII letters (ı, ſ) onto ASCII ones.
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return "may contain only A-Z, 0-9, '.' and '-'"
		}
	}
	if len(s) > 20 {
		return "must be at most 20 characters"
	}
	return ""
}

// storedSymbol reports whether s is a symbol as stored: upper case, of
// symbol characters. It accepts symbols that ParseSymbol now refuses (".",
// "-2-3") because earlier versions recorded them, and a ledger must never
// hide or fail on what it once accepted.
func storedSymbol(s string) bool {
	return s != "" && symbolFault(s) == "" && strings.ToUpper(s) == s
}

// Stream is the name of the event stream that holds the instrument's history.
func (s Symbol) Stream() string { return StreamPrefix + string(s) }

// SymbolOfStream returns the instrument a stream belongs to, and false for a
// stream that is not an instrument stream. It accepts every symbol a version
// of the ledger has stored (see storedSymbol), so no recorded instrument
// drops out of listings and checks.
func SymbolOfStream(stream string) (Symbol, bool) {
	rest, ok := strings.CutPrefix(stream, StreamPrefix)
	if !ok || !storedSymbol(rest) {
		return "", false
	}
	return Symbol(rest), true
}

// Analyst identifies one analyst, e.g. j.smith@firm-a. It is case-sensitive
// and, when it comes from a user, in Unicode NFC.
type Analyst string

// ParseAnalyst normalises text to Unicode NFC and checks it is 1 to 100
// printable characters. Normalising makes "rené" typed with a precomposed
// é and with e plus a combining accent one analyst: they print the same, so
// counting them as two would show one analyst twice in every answer.
func ParseAnalyst(text string) (Analyst, error) {
	if !utf8.ValidString(text) {
		return "", invalid("analyst", text, "must be valid UTF-8")
	}
	a := norm.NFC.String(text)
	if err := checkAnalyst(a); err != nil {
		return "", err
	}
	return Analyst(a), nil
}

// checkAnalyst checks an analyst id is 1 to 100 printable characters
// without surrounding spaces. Stored ids are checked by it alone, without
// NFC: events recorded before analyst ids were normalised stay readable.
func checkAnalyst(text string) error {
	if text == "" {
		return invalid("analyst", text, "must not be empty")
	}
	if !utf8.ValidString(text) {
		return invalid("analyst", text, "must be valid UTF-8")
	}
	if n := utf8.RuneCountInString(text); n > 100 {
		return invalid("analyst", text, "must be at most 100 characters")
	}
	if !printable(text) {
		return invalid("analyst", text, "must contain only printable characters")
	}
	if strings.TrimSpace(text) != text {
		return invalid("analyst", text, "must not start or end with spaces")
	}
	return nil
}

// ParseFirm checks an optional firm name: empty, or up to 200 printable
// characters, surrounding spaces trimmed and normalised to Unicode NFC, as
// analyst ids are, so a firm is matched exactly however its accents were
// typed.
func ParseFirm(text string) (string, error) {
	if text == "" {
		return "", nil
	}
	if !utf8.ValidString(text) || !printable(text) {
		return "", invalid("firm", text, "must contain only printable characters")
	}
	f := norm.NFC.String(strings.TrimSpace(text))
	if utf8.RuneCountInString(f) > 200 {
		return "", invalid("firm", text, "must be at most 200 characters")
	}
	return f, nil
}

// Currency is an ISO 4217 code: three letters A-Z.
type Currency string

// ParseCurrency upper-cases text and checks it is three letters.
func ParseCurrency(text string) (Currency, error) {
	c := strings.TrimSpace(text)
	if len(c) != 3 {
		return "", invalid("currency", text, "must be three letters (ISO 4217)")
	}
	for i := 0; i < 3; i++ {
		if !(c[i] >= 'A' && c[i] <= 'Z' || c[i] >= 'a' && c[i] <= 'z') {
			return "", invalid("currency", text, "must be three letters (ISO 4217)")
		}
	}
	return Currency(strings.ToUpper(c)), nil
}

// printable reports whether every rune is a printable character: no control
// characters, no invisible formatting runes that make two identifiers look alike.
func printable(s string) bool {
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}

// ValidationError says which field of a command or row is wrong and why.
type ValidationError struct {
	Field  string // the field at fault, as users name it: "target", "at", ...
	Value  string // the value given, as given
	Reason string // why it was refused, completing "FIELD VALUE ..."
}

// Error names the field, echoes the value through Quote (so a huge value
// makes a short message) and gives the reason.
func (e *ValidationError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("%s %s", e.Field, e.Reason)
	}
	return e.Field + " " + Quote(e.Value) + " " + e.Reason
}

func invalid(field, value, reason string) error {
	return &ValidationError{Field: field, Value: value, Reason: reason}
}
