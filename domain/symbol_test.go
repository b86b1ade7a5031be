package domain_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
)

func TestParseSymbolAccepts(t *testing.T) {
	tests := []struct {
		name, in string
		want     domain.Symbol
	}{
		{"upper case", "BABA", "BABA"},
		{"lower case is upper-cased", "baba", "BABA"},
		{"mixed case is upper-cased", "bAbA", "BABA"},
		{"digits, dot and letters", "9988.HK", "9988.HK"},
		{"lower-case suffix", "9988.hk", "9988.HK"},
		{"hyphen", "BRK-B", "BRK-B"},
		{"one character", "F", "F"},
		{"one digit", "7", "7"},
		{"twenty characters", strings.Repeat("A", 20), domain.Symbol(strings.Repeat("A", 20))},
		{"every allowed character", "AZ09.-", "AZ09.-"},
		{"surrounding spaces are trimmed", "  baba\t", "BABA"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := domain.ParseSymbol(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseSymbolRejects(t *testing.T) {
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"only spaces", "   "},
		{"21 characters", strings.Repeat("A", 21)},
		{"21 characters lower case", strings.Repeat("b", 21)},
		{"space inside", "BA BA"},
		{"tab inside", "BA\tBA"},
		{"slash", "BRK/B"},
		{"underscore", "BRK_B"},
		{"colon", "NYSE:BABA"},
		{"SQL-looking", "BABA';DROP"},
		{"path-looking", "../x"},
		{"backslash", `..\x`},
		{"NUL byte", "BABA\x00"},
		{"newline inside", "BA\nBA"},
		{"accented letter", "CAFÉ"},
		{"Cyrillic look-alike", "ВАВА"}, // Cyrillic capitals that look like BABA
		{"CJK", "阿里巴巴"},
		{"fullwidth letters", "ＢＡＢＡ"},
		{"emoji", "🚀"},
		{"invalid UTF-8", "BA\xffBA"},
		{"zero-width space", "BA\u200bBA"},
		// strings.ToUpper maps these two non-ASCII letters onto ASCII ones:
		// "ıbm" would silently become IBM and "ſpy" SPY.
		{"dotless i upper-cases to ASCII I", "ıbm"},
		{"long s upper-cases to ASCII S", "ſpy"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := domain.ParseSymbol(tt.in)
			requireInvalid(t, err, "symbol")
			assert.Empty(t, got)
		})
	}
}

// A symbol starting with '.' or '-' could be recorded but never named over
// HTTP ("." and ".." are path steps) and reads as a flag on the command line.
func TestParseSymbolMustStartWithALetterOrDigit(t *testing.T) {
	for _, in := range []string{".", "..", "-2-3", ".HK", "-", " .baba"} {
		t.Run(in, func(t *testing.T) {
			got, err := domain.ParseSymbol(in)
			ve := requireInvalid(t, err, "symbol")
			assert.Equal(t, "must start with a letter or digit", ve.Reason)
			assert.Equal(t, fmt.Sprintf("symbol %q must start with a letter or digit", in), err.Error())
			assert.Empty(t, got)
		})
	}
	for _, in := range []string{"9988.HK", "BRK-B", "A.", "7-"} {
		_, err := domain.ParseSymbol(in)
		assert.NoError(t, err, in)
	}
}

// Events recorded before the rule stay readable and listed: a ledger never
// hides what it once accepted.
func TestStoredSymbolsBeforeTheFirstCharacterRule(t *testing.T) {
	for _, sym := range []domain.Symbol{".", "..", "-2-3"} {
		got, ok := domain.SymbolOfStream(sym.Stream())
		require.True(t, ok, sym)
		assert.Equal(t, sym, got)
		data := fmt.Sprintf(`{"instrument":%q,"price":"1","currency":"USD","effective_at":"2025-09-01T23:59:59.999999999Z"}`, sym)
		e, err := domain.DecodeEvent(domain.TypeCloseRecorded, []byte(data))
		require.NoError(t, err, sym)
		assert.Equal(t, sym, e.Symbol())
	}
}

func TestParseSymbolIsIdempotent(t *testing.T) {
	for _, in := range []string{"baba", "9988.hk", "brk-b", " x "} {
		s, err := domain.ParseSymbol(in)
		require.NoError(t, err)
		again, err := domain.ParseSymbol(string(s))
		require.NoError(t, err)
		assert.Equal(t, s, again)
	}
}

func TestSymbolStream(t *testing.T) {
	for _, s := range []domain.Symbol{"BABA", "9988.HK", "BRK-B", "A", domain.Symbol(strings.Repeat("Z", 20))} {
		t.Run(string(s), func(t *testing.T) {
			stream := s.Stream()
			assert.Equal(t, "instrument-"+string(s), stream)
			got, ok := domain.SymbolOfStream(stream)
			require.True(t, ok)
			assert.Equal(t, s, got)
		})
	}
}

func TestSymbolOfStreamRejects(t *testing.T) {
	for _, stream := range []string{
		"",
		"instrument-",
		"BABA",
		"instruments-BABA",
		"Instrument-BABA",
		"instrument-baba", // not the canonical (upper-case) symbol
		"instrument- BABA",
		"instrument-BABA ",
		"instrument-BA BA",
		"instrument-" + strings.Repeat("A", 21),
		"instrument-../x",
		"$projections-instrument-BABA",
	} {
		t.Run(stream, func(t *testing.T) {
			got, ok := domain.SymbolOfStream(stream)
			assert.False(t, ok)
			assert.Empty(t, got)
		})
	}
}

func TestParseAnalystAccepts(t *testing.T) {
	tests := []struct{ name, in string }{
		{"email-like", "j.smith@firm-a"},
		{"one character", "x"},
		{"100 ASCII characters", strings.Repeat("a", 100)},
		{"100 multi-byte characters", strings.Repeat("é", 100)},
		{"space inside", "Jane Smith"},
		{"punctuation", `a!"#$%&'()*+,-./:;<=>?@[\]^_{|}~`},
		{"accents", "José Müller"},
		{"CJK", "张伟"},
		{"emoji", "analyst🚀"},
		{"combining mark without a precomposed form", "q\u0301"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := domain.ParseAnalyst(tt.in)
			require.NoError(t, err)
			assert.Equal(t, domain.Analyst(tt.in), got, "an analyst id in NFC is kept exactly as given")
		})
	}
}

// An analyst id typed with decomposed accents (NFD, as macOS file names and
// some keyboards give them) is the same analyst as the precomposed one: both
// print "rené", so they must not count twice.
func TestParseAnalystNormalisesToNFC(t *testing.T) {
	nfc, nfd := "ren\u00e9@firm-a", "rene\u0301@firm-a"
	require.NotEqual(t, nfc, nfd)
	a, err := domain.ParseAnalyst(nfc)
	require.NoError(t, err)
	b, err := domain.ParseAnalyst(nfd)
	require.NoError(t, err)
	assert.Equal(t, domain.Analyst(nfc), a)
	assert.Equal(t, domain.Analyst(nfc), b, "the decomposed id is stored composed")
	// 100 characters once composed, 200 as typed: the length counts the id
	// as stored.
	long, err := domain.ParseAnalyst(strings.Repeat("e\u0301", 100))
	require.NoError(t, err)
	assert.Equal(t, domain.Analyst(strings.Repeat("\u00e9", 100)), long)
	_, err = domain.ParseAnalyst(strings.Repeat("e\u0301", 101))
	requireInvalid(t, err, "analyst")
}

func TestParseFirmNormalisesToNFC(t *testing.T) {
	f, err := domain.ParseFirm(" Soci\u0065\u0301t\u0065\u0301 G\u0065\u0301n\u0065\u0301rale ")
	require.NoError(t, err)
	assert.Equal(t, "Soci\u00e9t\u00e9 G\u00e9n\u00e9rale", f)
}

func TestParseAnalystIsCaseSensitive(t *testing.T) {
	lower, err := domain.ParseAnalyst("j.smith@firm-a")
	require.NoError(t, err)
	upper, err := domain.ParseAnalyst("J.Smith@Firm-A")
	require.NoError(t, err)
	assert.NotEqual(t, lower, upper)
	assert.Equal(t, domain.Analyst("J.Smith@Firm-A"), upper)
}

func TestParseAnalystRejects(t *testing.T) {
	tests := []struct{ name, in string }{
		{"empty", ""},
		{"101 characters", strings.Repeat("a", 101)},
		{"101 multi-byte characters", strings.Repeat("é", 101)},
		{"leading space", " j.smith"},
		{"trailing space", "j.smith "},
		{"only a space", " "},
		{"leading tab", "\tj.smith"},
		{"trailing no-break space", "j.smith\u00a0"},
		{"NUL", "j\x00smith"},
		{"newline", "j\nsmith"},
		{"carriage return", "j\rsmith"},
		{"tab inside", "j\tsmith"},
		{"escape", "j\x1bsmith"},
		{"DEL", "j\x7fsmith"},
		{"C1 control", "j\u0085smith"},
		{"C1 control CSI", "j\u009bsmith"},
		{"zero-width space", "j\u200bsmith"},
		{"zero-width non-joiner", "j\u200csmith"},
		{"zero-width joiner", "j\u200dsmith"},
		{"left-to-right mark", "j\u200esmith"},
		{"right-to-left mark", "j\u200fsmith"},
		{"right-to-left override", "j\u202esmith"},
		{"left-to-right embedding", "j\u202asmith"},
		{"word joiner", "j\u2060smith"},
		{"first strong isolate", "j\u2068smith"},
		{"pop directional isolate", "j\u2069smith"},
		{"byte order mark", "\ufeffj.smith"},
		{"invalid UTF-8", "j\xffsmith"},
		{"truncated UTF-8", "j.smith\xc3"},
		{"replacement character", "j\ufffdsmith"},
		// Format characters the hand-written list misses: each makes an id
		// look identical to another one, or is not printable at all.
		{"arabic letter mark (bidi control)", "j\u061csmith"},
		{"soft hyphen (invisible)", "j\u00adsmith"},
		{"mongolian vowel separator (invisible)", "j\u180esmith"},
		{"line separator", "j\u2028smith"},
		{"paragraph separator", "j\u2029smith"},
		{"tag character (invisible)", "j\U000E0041smith"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := domain.ParseAnalyst(tt.in)
			requireInvalid(t, err, "analyst")
			assert.Empty(t, got)
		})
	}
}

func TestParseFirm(t *testing.T) {
	accepts := []struct{ name, in, want string }{
		{"empty means none", "", ""},
		{"plain", "Firm A", "Firm A"},
		{"trimmed", "  Firm A  ", "Firm A"},
		{"200 characters", strings.Repeat("f", 200), strings.Repeat("f", 200)},
		{"200 multi-byte characters", strings.Repeat("ü", 200), strings.Repeat("ü", 200)},
		{"accents and punctuation", "Société Générale S.A.", "Société Générale S.A."},
	}
	for _, tt := range accepts {
		t.Run("accepts "+tt.name, func(t *testing.T) {
			got, err := domain.ParseFirm(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
	rejects := []struct{ name, in string }{
		{"201 characters", strings.Repeat("f", 201)},
		{"newline", "Firm\nA"},
		{"NUL", "Firm\x00A"},
		{"right-to-left override", "Firm\u202eA"},
		{"zero-width space", "Firm\u200bA"},
		{"invalid UTF-8", "Firm\xffA"},
	}
	for _, tt := range rejects {
		t.Run("rejects "+tt.name, func(t *testing.T) {
			_, err := domain.ParseFirm(tt.in)
			requireInvalid(t, err, "firm")
		})
	}
}

func TestParseCurrency(t *testing.T) {
	accepts := []struct{ in, want string }{
		{"USD", "USD"},
		{"usd", "USD"},
		{"Hkd", "HKD"},
		{" eur ", "EUR"},
		{"CNY", "CNY"},
	}
	for _, tt := range accepts {
		t.Run("accepts "+tt.in, func(t *testing.T) {
			got, err := domain.ParseCurrency(tt.in)
			require.NoError(t, err)
			assert.Equal(t, domain.Currency(tt.want), got)
		})
	}
	rejects := []struct{ name, in string }{
		{"empty", ""},
		{"two letters", "US"},
		{"four letters", "USDX"},
		{"digit", "U1D"},
		{"all digits", "840"},
		{"space inside", "U D"},
		{"symbol", "$"},
		{"punctuation", "US$"},
		{"accented letter", "ÉUR"},
		{"dotless i upper-cases to ASCII I", "ısd"},
		{"long s upper-cases to ASCII S", "ſek"},
	}
	for _, tt := range rejects {
		t.Run("rejects "+tt.name, func(t *testing.T) {
			got, err := domain.ParseCurrency(tt.in)
			requireInvalid(t, err, "currency")
			assert.Empty(t, got)
		})
	}
}

func TestValidationErrorMessage(t *testing.T) {
	_, err := domain.ParseSymbol("BA BA")
	ve := requireInvalid(t, err, "symbol")
	assert.Equal(t, "BA BA", ve.Value, "the value is kept as given")
	assert.Equal(t, `symbol "BA BA" `+ve.Reason, err.Error())

	_, err = domain.ParseSymbol("")
	ve = requireInvalid(t, err, "symbol")
	assert.Equal(t, "symbol "+ve.Reason, err.Error(), "an empty value is not quoted")
	assert.NotEmpty(t, ve.Reason)
}

// An analyst id stored in NFD by a version before normalisation stays
// readable: the decoder holds stored events to the rules they were written
// by, and never fails a ledger on them.
func TestStoredAnalystNotInNFCStaysReadable(t *testing.T) {
	data := `{"instrument":"BABA","analyst":"rene\u0301@firm-a","rating":"buy","broker_rating":"buy","currency":"USD","effective_at":"2025-09-01T23:59:59.999999999Z"}`
	e, err := domain.DecodeEvent(domain.TypeRatingAdded, []byte(data))
	require.NoError(t, err)
	assert.Equal(t, domain.Analyst("rene\u0301@firm-a"), e.(domain.RatingAdded).Analyst, "kept as stored, never rewritten")
}
