package serve_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/serve"
)

func TestParseTokens(t *testing.T) {
	tokens, err := serve.ParseTokens(strings.NewReader("\ufeff# clients\n\n" +
		"  aaaaaaaaaaaaaaaa   write   Import Job (nightly)  \n" +
		"bbbbbbbbbbbbbbbbreadbbbb read dashboard\n"))
	require.NoError(t, err)
	assert.Equal(t, 2, tokens.Len())
	p, ok := tokens.Lookup("aaaaaaaaaaaaaaaa")
	require.True(t, ok)
	assert.Equal(t, serve.Principal{Name: "Import Job (nightly)", Role: serve.RoleWrite}, p, "the name is the rest of the line")
	p, ok = tokens.Lookup("bbbbbbbbbbbbbbbbreadbbbb")
	require.True(t, ok)
	assert.Equal(t, serve.Principal{Name: "dashboard", Role: serve.RoleRead}, p, "a token may contain its role's word")
	for _, guess := range []string{"", "aaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaaa", "AAAAAAAAAAAAAAAA"} {
		_, ok := tokens.Lookup(guess)
		assert.False(t, ok, guess)
	}
}

func TestParseTokensRefusals(t *testing.T) {
	const good = "cccccccccccccccc read viewer\n"
	for _, c := range []struct {
		name, file string
		line       int
		reason     string
	}{
		{"empty", "", 0, "grants no token"},
		{"only comments", "# nobody\n", 1, "grants no token"},
		{"two fields", "cccccccccccccccc read\n", 1, "TOKEN ROLE NAME"},
		{"short token", "short read viewer\n", 1, "shorter than 16"},
		{"unknown role", "cccccccccccccccc admin root\n", 1, `role "admin"`},
		{"repeated token", good + good, 2, "repeats the token of line 1"},
		{"control characters", "cccccccccccccccc read vie\x01wer\n", 1, "printable"},
		{"long name", "cccccccccccccccc read " + strings.Repeat("n", 101) + "\n", 1, "1 to 100"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := serve.ParseTokens(strings.NewReader(c.file))
			var tfe *serve.TokenFileError
			require.True(t, errors.As(err, &tfe), "a TokenFileError: %v", err)
			assert.Equal(t, c.line, tfe.Line)
			assert.Contains(t, err.Error(), c.reason)
			assert.NotContains(t, err.Error(), "cccccccccccccccc", "a token is never quoted")
		})
	}
	_, err := serve.ReadTokenFile(filepath.Join(t.TempDir(), "missing"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestCheckAddress(t *testing.T) {
	for _, c := range []struct {
		addr   string
		tokens bool
		ok     bool
	}{
		{"127.0.0.1:8080", false, true},
		{"127.0.0.2:0", false, true},
		{"[::1]:8080", false, true},
		{"localhost:8080", false, true},
		{"0.0.0.0:8080", false, false},
		{":8080", false, false},
		{"192.168.1.5:8080", false, false},
		{"example.com:80", false, false},
		{"0.0.0.0:8080", true, true},
		{":8080", true, true},
		{"127.0.0.1", false, false},
		{"127.0.0.1:", false, false},
	} {
		err := serve.CheckAddress(c.addr, c.tokens)
		if c.ok {
			assert.NoError(t, err, c.addr)
		} else {
			assert.Error(t, err, c.addr)
		}
	}
	err := serve.CheckAddress("0.0.0.0:8080", false)
	assert.Contains(t, err.Error(), "--tokens")
}
