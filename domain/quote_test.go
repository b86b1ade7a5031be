package domain_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/consensus-ledger/consensus/domain"
)

func TestQuote(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", `""`},
		{"2025-09-11", `"2025-09-11"`},
		{"a\x1b[2Jb", `"a\x1b[2Jb"`},
		{strings.Repeat("x", 64), `"` + strings.Repeat("x", 64) + `"`},
		{strings.Repeat("x", 65), `"` + strings.Repeat("x", 64) + `"… (65 characters)`},
		// Characters, not bytes: 64 two-byte letters are echoed whole, and
		// a cut never splits one.
		{strings.Repeat("é", 64), `"` + strings.Repeat("é", 64) + `"`},
		{strings.Repeat("é", 100), `"` + strings.Repeat("é", 64) + `"… (100 characters)`},
	} {
		assert.Equal(t, tc.want, domain.Quote(tc.in), "%.80q", tc.in)
	}
}

// TestShorten: a value repeated outside a message is cut where Quote cuts
// it, by characters, with an ellipsis only where something was cut.
func TestShorten(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"as_of", "as_of"},
		{strings.Repeat("x", 64), strings.Repeat("x", 64)},
		{strings.Repeat("x", 65), strings.Repeat("x", 64) + "…"},
		{strings.Repeat("é", 100), strings.Repeat("é", 64) + "…"},
	} {
		assert.Equal(t, tc.want, domain.Shorten(tc.in), "%.80q", tc.in)
	}
}

// TestValidationErrorBoundsTheValue: a 60 KB value is refused in a short
// message that still says how long it was, whichever parser refused it.
func TestValidationErrorBoundsTheValue(t *testing.T) {
	huge := "2025-09-11" + strings.Repeat("9", 60_000)
	_, err := domain.ParseTime("as_of", huge)
	var ve *domain.ValidationError
	if assert.ErrorAs(t, err, &ve) {
		assert.Equal(t, huge, ve.Value, "the error keeps the value whole for the caller")
	}
	assert.Equal(t, `as_of "2025-09-11`+strings.Repeat("9", 54)+`"… (60010 characters) `+ve.Reason, err.Error())
}
