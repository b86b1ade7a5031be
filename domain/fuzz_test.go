package domain_test

import (
	"encoding/json"
	"math/big"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/unicode/norm"

	"github.com/consensus-ledger/consensus/domain"
)

// The seed corpora live in testdata/fuzz/<FuzzName>/; the f.Add seeds below
// cover the same ground so a plain `go test` exercises every target.

var plainDecimal = regexp.MustCompile(`^[0-9]+(\.[0-9]{1,6})?$`)

func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{
		"165.69", "0.000001", "1000000000", "1000000000.000001", "007.50", "0", "0.000000",
		"-1", "+1", "1e3", "1,000", "1_000", ".5", "5.", " 1", "1.0000001", "", "9223372036854775807",
		strings.Repeat("9", 40), "0000000000000000001.5",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		m, err := domain.ParseMoney("price", text)
		if whole, frac, _ := strings.Cut(text, "."); err == nil {
			// The millionths, read another way: big integers of the
			// digits, the fraction padded to six.
			want, ok := new(big.Int).SetString(whole+frac+strings.Repeat("0", 6-len(frac)), 10)
			require.True(t, ok)
			require.Equal(t, want.Int64(), int64(m), "%q", text)
		}
		if err != nil {
			var ve *domain.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Equal(t, "price", ve.Field)
			require.Zero(t, m)
			return
		}
		require.Greater(t, m, domain.Money(0))
		require.LessOrEqual(t, m, domain.MaxMoney)
		require.Regexp(t, plainDecimal, text, "only plain decimals are accepted")

		s := m.String()
		require.Regexp(t, plainDecimal, s)
		require.False(t, strings.Contains(s, ".") && strings.HasSuffix(s, "0"), "String() is minimal: %q", s)
		back, err := domain.ParseMoney("price", s)
		require.NoError(t, err, "String() = %q", s)
		require.Equal(t, m, back, "Parse(String(m)) == m")

		b, err := json.Marshal(m)
		require.NoError(t, err)
		require.Equal(t, `"`+s+`"`, string(b))
	})
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{
		"2025-09-11", "2025-09-11T10:00:00Z", "2025-09-11T10:00:00+02:00", "2025-09-11T10:00:00.123456789-05:30",
		"2025-13-01", "2025-09-31", "1899-12-31", "0000-01-01", "2024-02-29", "2023-02-29", "2025-00-10",
		"2025-01-00", "2025-1-010", "+025-01-01", "2025-01-0a", "2025/01/01", "9999-12-31", "2000-02-30", "9999-12-31T23:59:59-23:59", "garbage", "",
		"2025-09-11T10:00:00", "2025-09-11 10:00:00Z",
		"2016-12-31T23:59:60Z", "2016-12-31T18:59:60.5-05:00", "2016-12-31T12:00:60Z", // leap seconds
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		tm, err := domain.ParseTime("at", text)
		if len(text) == len("2006-01-02") {
			// A bare date is read by hand; time.Parse is the reference.
			d, refErr := time.Parse("2006-01-02", text)
			require.Equal(t, refErr == nil, err == nil, "%q: %v against time.Parse's %v", text, err, refErr)
			if refErr == nil {
				require.Equal(t, domain.EndOfDay(d), tm)
			}
		}
		if err != nil {
			var ve *domain.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Equal(t, "at", ve.Field)
			return
		}
		require.Equal(t, time.UTC, tm.Location(), "results are in UTC")
		if len(text) == len("2006-01-02") {
			require.Equal(t, domain.EndOfDay(tm), tm, "a bare date means the end of the day")
		}
		if y := tm.Year(); y >= 0 && y <= 9999 {
			back, err := domain.ParseTime("at", domain.FormatTime(tm))
			require.NoError(t, err, "FormatTime = %q", domain.FormatTime(tm))
			require.Equal(t, tm, back)
		}
		eff, err := domain.ParseEffective("at", text, now)
		if err == nil {
			require.Equal(t, tm, eff)
			require.False(t, eff.Before(domain.EarliestEffective))
			require.False(t, eff.After(now.Add(domain.MaxFutureSkew)))
		} else {
			require.True(t, tm.Before(domain.EarliestEffective) || tm.After(now.Add(domain.MaxFutureSkew)))
		}
	})
}

func FuzzParseSymbol(f *testing.F) {
	for _, s := range []string{
		"BABA", "baba", "9988.HK", "brk-b", " x ", "", strings.Repeat("A", 20), strings.Repeat("A", 21),
		"BA BA", "BRK/B", "BABA';DROP", "../x", "阿里巴巴", ".", "..", "-2-3", "A.",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		s, err := domain.ParseSymbol(text)
		if err != nil {
			var ve *domain.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Equal(t, "symbol", ve.Field)
			require.Empty(t, s)
			return
		}
		require.NotEmpty(t, s)
		require.LessOrEqual(t, len(s), 20)
		require.True(t, s[0] >= 'A' && s[0] <= 'Z' || s[0] >= '0' && s[0] <= '9', "%q starts with a letter or digit", s)
		for _, r := range string(s) {
			require.True(t, r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-', "rune %q in %q", r, s)
		}
		again, err := domain.ParseSymbol(string(s))
		require.NoError(t, err)
		require.Equal(t, s, again, "idempotent")

		// The input was the symbol itself, in any case, perhaps padded:
		// nothing outside a-z, A-Z, 0-9, '.' and '-' may turn into it.
		trimmed := strings.TrimSpace(text)
		for i := 0; i < len(trimmed); i++ {
			c := trimmed[i]
			require.True(t, c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-',
				"input %q byte %q became symbol %q", text, c, s)
		}
		require.Equal(t, string(s), strings.ToUpper(trimmed))

		got, ok := domain.SymbolOfStream(s.Stream())
		require.True(t, ok)
		require.Equal(t, s, got)
	})
}

func FuzzParseRating(f *testing.F) {
	for _, s := range []string{
		"strong_buy", "Strong Buy", "BUY", "hold", "sell", "strong-sell", "outperform", "Equal-Weight",
		"market perform", "sector_perform", "underweight", "reduce", "", "strongbuy", "buy!",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, word string) {
		r, err := domain.ParseRating(word)
		if err != nil {
			var ve *domain.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Equal(t, "rating", ve.Field)
			require.False(t, r.Valid())
			return
		}
		require.True(t, r.Valid())
		require.GreaterOrEqual(t, r.Score(), 1)
		require.LessOrEqual(t, r.Score(), 5)
		back, err := domain.ParseRating(r.String())
		require.NoError(t, err)
		require.Equal(t, r, back)
		var u domain.Rating
		require.NoError(t, u.UnmarshalText([]byte(r.String())))
		require.Equal(t, r, u)
		// Case and separators never change the meaning.
		upper, err := domain.ParseRating(strings.ToUpper(word))
		if err == nil {
			require.Equal(t, r, upper)
		}
	})
}

func FuzzParseAnalyst(f *testing.F) {
	for _, s := range []string{
		"j.smith@firm-a", "J.Smith@Firm-A", "x", strings.Repeat("a", 100), strings.Repeat("a", 101),
		"", " j", "j ", "j\x00", "j\u200b", "j\u202e", "j\xff", "张伟",
		"rene\u0301@firm-a", "ren\u00e9@firm-a", strings.Repeat("e\u0301", 100), "\u0301",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		a, err := domain.ParseAnalyst(text)
		if err != nil {
			var ve *domain.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Equal(t, "analyst", ve.Field)
			require.Empty(t, a)
			return
		}
		require.True(t, utf8.ValidString(text))
		require.Equal(t, domain.Analyst(norm.NFC.String(text)), a, "kept as given, in NFC")
		again, err := domain.ParseAnalyst(string(a))
		require.NoError(t, err)
		require.Equal(t, a, again, "idempotent")
		n := utf8.RuneCountInString(string(a))
		require.True(t, n >= 1 && n <= 100, "%d characters", n)
		require.Equal(t, strings.TrimSpace(string(a)), string(a))
		for _, r := range string(a) {
			require.True(t, unicode.IsPrint(r), "rune %U in %q is not printable", r, text)
			require.NotEqual(t, utf8.RuneError, r)
		}
	})
}

func FuzzParseRatio(f *testing.F) {
	for _, s := range []string{"4:1", "1:10", "3:2", "1000000:1", "1:1000000", "1000001:1", "1:1", "0:1", "4:0",
		"4/1", "4:1.5", "-4:1", "+4:1", " 4:1", "4:1:1", "", ":", "04:01", "9999999999999999999:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		r, err := domain.ParseRatio(text)
		if err != nil {
			var ve *domain.ValidationError
			require.ErrorAs(t, err, &ve)
			require.Equal(t, "ratio", ve.Field)
			require.Zero(t, r)
			return
		}
		require.True(t, r.Valid())
		require.Regexp(t, `^[0-9]+:[0-9]+$`, text, "only N:M of digits is accepted")
		back, err := domain.ParseRatio(r.String())
		require.NoError(t, err)
		require.Equal(t, r, back, "Parse(String(r)) == r")
		require.Equal(t, r.String(), back.String())
	})
}

func FuzzDecodeEvent(f *testing.F) {
	for _, g := range goldenEvents {
		f.Add(g.event.Type(), []byte(g.json))
	}
	f.Add(domain.TypeCloseRecorded, []byte(`{"instrument":"BABA","price":"155.440","currency":"USD","effective_at":"2025-09-11T23:59:59+08:00"}`))
	f.Add(domain.TypeEventRetracted, []byte(`{"instrument":"BABA","retracted_event_id":"{0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b}","reason":"x","effective_at":"2025-09-01T00:00:00Z"}`))
	f.Add(domain.TypeRatingAdded, []byte(`{"instrument":"BABA","analyst":"a","rating":"buy","broker_rating":"b","target":null,"currency":"USD","effective_at":"2025-09-01T00:00:00Z"}`))
	f.Add(domain.TypeRatingWithdrawn, []byte(`null`))
	f.Add("Unknown", []byte(`{}`))
	f.Fuzz(func(t *testing.T, typ string, data []byte) {
		e, err := domain.DecodeEvent(typ, data)
		if err != nil {
			require.Nil(t, e)
			return
		}
		require.NotNil(t, e)
		require.Equal(t, typ, e.Type())
		require.True(t, json.Valid(data), "decoded data must be exactly one JSON value: %q", data)

		b, err := domain.EncodeEvent(e)
		require.NoError(t, err, "a decoded event encodes")
		again, err := domain.DecodeEvent(typ, b)
		require.NoError(t, err, "encoding %s", b)
		require.True(t, sameEvent(e, again), "decode(encode(e)) == e:\n%#v\n%#v", e, again)

		b2, err := domain.EncodeEvent(again)
		require.NoError(t, err)
		require.Equal(t, string(b), string(b2), "encoding is a fixed point after one round")
	})
}

// sameEvent compares two events field by field, times by instant: a stored
// offset such as +08:00 decodes to a location that is equal in meaning but
// not in pointer.
func sameEvent(a, b domain.Event) bool {
	if a.Type() != b.Type() || !a.Effective().Equal(b.Effective()) {
		return false
	}
	utc := func(e domain.Event) domain.Event {
		switch e := e.(type) {
		case domain.RatingAdded:
			e.EffectiveAt = e.EffectiveAt.UTC()
			return e
		case domain.TargetRevised:
			e.EffectiveAt = e.EffectiveAt.UTC()
			return e
		case domain.RatingWithdrawn:
			e.EffectiveAt = e.EffectiveAt.UTC()
			return e
		case domain.CloseRecorded:
			e.EffectiveAt = e.EffectiveAt.UTC()
			return e
		case domain.EventRetracted:
			e.EffectiveAt = e.EffectiveAt.UTC()
			return e
		case domain.SplitRecorded:
			e.EffectiveAt = e.EffectiveAt.UTC()
			return e
		}
		return e
	}
	x, y := utc(a), utc(b)
	if ra, ok := x.(domain.RatingAdded); ok {
		rb := y.(domain.RatingAdded)
		if (ra.Target == nil) != (rb.Target == nil) || ra.Target != nil && *ra.Target != *rb.Target {
			return false
		}
		ra.Target, rb.Target = nil, nil
		return ra == rb
	}
	return x == y
}

// FuzzDecodeFastPath checks that the fast decoder of the canonical form
// agrees with encoding/json on everything it accepts.
func FuzzDecodeFastPath(f *testing.F) {
	for _, typ := range []string{domain.TypeRatingAdded, domain.TypeTargetRevised, domain.TypeRatingWithdrawn, domain.TypeCloseRecorded, domain.TypeEventRetracted} {
		f.Add(typ, []byte(`{"instrument":"BABA","analyst":"a@x","firm":"Firm «A»","rating":"buy","broker_rating":"outperform","target":"165.69","currency":"USD","effective_at":"2025-09-11T23:59:59.999999999Z"}`))
		f.Add(typ, []byte(`{"instrument":"BABA","analyst":"a@x","target":"1","currency":"USD","effective_at":"2025-09-11T23:59:59Z"}`))
		f.Add(typ, []byte(`{"instrument":"BABA","analyst":"a@x","effective_at":"2025-09-11T23:59:59.999999999Z"}`))
		f.Add(typ, []byte(`{"instrument":"BABA","price":"155.44","currency":"USD","effective_at":"2025-09-11T23:59:59.999999999Z"}`))
		f.Add(typ, []byte(`{"instrument":"BABA","retracted_event_id":"6f1c1d55-7c1e-4d2b-9a53-3c1f0e5b8a11","reason":"typo","effective_at":"2025-09-11T23:59:59.999999999Z"}`))
		// Keys another type has, empty: encoding/json refuses them as unknown.
		f.Add(typ, []byte(`{"instrument":"BABA","analyst":"a@x","firm":"","target":"1","currency":"USD","effective_at":"2025-09-11T23:59:59Z"}`))
		f.Add(typ, []byte(`{"instrument":"BABA","price":"1","reason":"","currency":"USD","effective_at":"2025-09-11T23:59:59Z"}`))
		// A trailing comma: not JSON.
		f.Add(typ, []byte(`{"instrument":"BABA","price":"1","currency":"USD","effective_at":"2025-09-11T23:59:59Z",}`))
	}
	f.Fuzz(func(t *testing.T, typ string, data []byte) {
		fast, err := domain.DecodeEvent(typ, data)
		strict, strictErr := domain.DecodeStrictForTest(typ, data)
		if err != nil {
			require.Error(t, strictErr, "the strict decoder accepted what DecodeEvent refused")
			return
		}
		require.NoError(t, strictErr, "DecodeEvent accepted %q, the strict decoder refused it", data)
		a, err := domain.EncodeEvent(fast)
		require.NoError(t, err)
		b, err := domain.EncodeEvent(strict)
		require.NoError(t, err)
		require.Equal(t, string(b), string(a))
		require.Equal(t, strict, fast)
	})
}

// FuzzDecodeMetadata checks that DecodeMetadata's fast path agrees with
// encoding/json on every input: both refuse it, or both give the same
// metadata.
func FuzzDecodeMetadata(f *testing.F) {
	f.Add([]byte(`{"recorded_by":"cli:root","source":"import:c.jsonl:1793","correlation_id":"01a2102d-aba5-728a-949a-0dd4249dcbde"}`))
	f.Add([]byte(`{"recorded_by":"a","source":"b","correlation_id":"c","causation_id":"d"}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"source":"x",}`))
	f.Add([]byte(`{"source":"x","source":"y"}`))
	f.Add([]byte(`{"Source":"x"}`))
	f.Add([]byte(`{"source":"caf\u00e9","other":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := domain.DecodeMetadata(data)
		var want domain.Metadata
		wantErr := json.Unmarshal(data, &want)
		if wantErr != nil {
			require.Error(t, err, "DecodeMetadata accepted %q, encoding/json refused it", data)
			return
		}
		require.NoError(t, err, "DecodeMetadata refused %q, encoding/json accepted it", data)
		require.Equal(t, want, got)
	})
}
