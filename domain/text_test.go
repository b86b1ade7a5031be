package domain_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
)

func TestCheckFreeText(t *testing.T) {
	for _, ok := range []string{"", "typo in target", "Kursziel zu hoch (Tippfehler) – korrigiert ✓", "import:history.jsonl:12", strings.Repeat("é", 1000)} {
		assert.NoError(t, domain.CheckFreeText("reason", ok), "%q", ok)
	}
	for name, bad := range map[string]string{
		"escape sequence":        "typo\x1b[2J",
		"tab":                    "a\tb",
		"new line":               "a\nb",
		"carriage return":        "real\rfake",
		"NUL":                    "a\x00",
		"right-to-left override": "abc\u202edef",
		"zero-width space":       "a\u200bb",
		"line separator":         "a\u2028b",
		"invalid UTF-8":          "a\xffb",
		"1,001 characters":       strings.Repeat("r", 1001),
	} {
		err := domain.CheckFreeText("reason", bad)
		var ve *domain.ValidationError
		require.ErrorAs(t, err, &ve, name)
		assert.Equal(t, "reason", ve.Field, name)
		assert.NotContains(t, err.Error(), "\x1b", "%s: the message quotes the value", name)
		assert.NotContains(t, err.Error(), "\n", name)
	}
}
