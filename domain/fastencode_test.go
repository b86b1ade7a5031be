package domain_test

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
)

// The fast encoders must write encoding/json's bytes exactly: the stored
// bytes of an event are hashed into its stream's chain and make
// content-derived ids, so one byte of difference would fork a re-import.

func TestEncodeFastPathTakesEveryExample(t *testing.T) {
	for _, r := range domain.Examples() {
		want, err := json.Marshal(r.Event)
		require.NoError(t, err)
		got, ok := domain.EncodeCanonicalForTest(r.Event)
		require.True(t, ok, "the fast encoder refused the %s example", r.Event.Type())
		assert.Equal(t, string(want), string(got), r.Event.Type())

		want, err = json.Marshal(r.Meta)
		require.NoError(t, err)
		got, ok = domain.EncodeMetadataForTest(r.Meta)
		require.True(t, ok, "the fast encoder refused the metadata example")
		assert.Equal(t, string(want), string(got))
	}
}

// TestEncodeFastPath holds both fast encoders to encoding/json on random
// events and metadata whose strings mix plain text with everything
// encoding/json escapes or rewrites, and times in other zones and years.
func TestEncodeFastPath(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 2026))
	took, left := 0, 0
	for range 20000 {
		e, meta := randomEvent(rng), randomMetadata(rng)
		if got, ok := domain.EncodeCanonicalForTest(e); ok {
			want, err := json.Marshal(e)
			require.NoError(t, err, "%#v", e)
			require.Equal(t, string(want), string(got), "%#v", e)
			took++
		} else {
			left++
		}
		if got, ok := domain.EncodeMetadataForTest(meta); ok {
			want, err := json.Marshal(meta)
			require.NoError(t, err)
			require.Equal(t, string(want), string(got), "%#v", meta)
		}
		// EncodeMetadata gives encoding/json's bytes whichever path it takes.
		want, err := json.Marshal(meta)
		require.NoError(t, err)
		got, err := domain.EncodeMetadata(meta)
		require.NoError(t, err)
		require.Equal(t, string(want), string(got))
	}
	// Both paths must have been exercised for the test to mean anything.
	assert.Greater(t, took, 1000, "events the fast path took")
	assert.Greater(t, left, 1000, "events left to encoding/json")
}

// FuzzEncodeFastPath checks the fast encoders against encoding/json on any
// strings and times.
func FuzzEncodeFastPath(f *testing.F) {
	f.Add(0, "BABA", "j.smith@firm-a", "Firm A", "Outperform", int64(165_690_000), int64(1757635199999999999), 0)
	f.Add(1, "9988.HK", "a<b>&c", "", "", int64(1), int64(-62135596800000000), 3600)
	f.Add(4, "X", "é\u2028", "\x00\xff", "\"\\", int64(-5), int64(253402300799000000), -1800)
	f.Fuzz(func(t *testing.T, kind int, instrument, analyst, firm, text string, micros, nanos int64, offset int) {
		at := time.Unix(0, nanos).In(time.FixedZone("", offset%(48*3600)))
		e := buildEvent(kind, instrument, analyst, firm, text, micros, at)
		if got, ok := domain.EncodeCanonicalForTest(e); ok {
			want, err := json.Marshal(e)
			require.NoError(t, err)
			require.Equal(t, string(want), string(got))
		}
		meta := domain.Metadata{RecordedBy: instrument, Source: analyst, CorrelationID: firm, CausationID: text}
		if got, ok := domain.EncodeMetadataForTest(meta); ok {
			want, err := json.Marshal(meta)
			require.NoError(t, err)
			require.Equal(t, string(want), string(got))
		}
	})
}

// trickyStrings are the pieces random strings are made of: plain text and
// everything encoding/json escapes (control characters, quote, backslash,
// <, > and &), rewrites (bytes that are not UTF-8) or escapes outside
// ASCII (U+2028, U+2029), and other characters outside ASCII it leaves.
var trickyStrings = []string{"", "BABA", "a", "Firm A", "j.smith@firm-a", "9988.HK", "0.5", "-", " ",
	"<", ">", "&", "\"", "\\", "\n", "\t", "\x00", "\x7f", "\xff", "\xe2\x80", "é", "«A»", "\u2028", "\u2029", "日本"}

func randomString(rng *rand.Rand) string {
	s := ""
	for range rng.IntN(4) {
		s += trickyStrings[rng.IntN(len(trickyStrings))]
	}
	return s
}

func randomEvent(rng *rand.Rand) domain.Event {
	var at time.Time
	switch rng.IntN(4) {
	case 0: // another zone
		at = time.Unix(rng.Int64N(4e9)-1e9, rng.Int64N(1e9)).In(time.FixedZone("", (rng.IntN(48)-24)*1800))
	case 1: // a year encoding/json refuses, or the edges it accepts
		years := []int{-1, 0, 9999, 10000}
		at = time.Date(years[rng.IntN(len(years))], 6, 1, 0, 0, 0, rng.IntN(2)*5, time.UTC)
	default:
		at = time.Unix(rng.Int64N(4e9)-1e9, rng.Int64N(1e9)*int64(rng.IntN(2))).UTC()
	}
	plain := func() string {
		if rng.IntN(3) == 0 {
			return randomString(rng)
		}
		return trickyStrings[1+rng.IntN(6)]
	}
	return buildEvent(rng.IntN(7), plain(), plain(), plain(), plain(), rng.Int64N(2e12)-1e11, at)
}

func randomMetadata(rng *rand.Rand) domain.Metadata {
	pick := func() string {
		if rng.IntN(3) == 0 {
			return ""
		}
		return randomString(rng)
	}
	return domain.Metadata{RecordedBy: pick(), Source: pick(), CorrelationID: pick(), CausationID: pick()}
}

// buildEvent makes an event of one of the types (by kind) from the given
// values, whatever they are: the encoders must agree on invalid events too.
func buildEvent(kind int, instrument, analyst, firm, text string, micros int64, at time.Time) domain.Event {
	money := domain.Money(micros)
	switch ((kind % 7) + 7) % 7 {
	case 0:
		return domain.RatingAdded{Instrument: domain.Symbol(instrument), Analyst: domain.Analyst(analyst), Firm: firm,
			Rating: domain.Buy, BrokerRating: text, Target: &money, Currency: domain.Currency(firm), EffectiveAt: at}
	case 1:
		return domain.RatingAdded{Instrument: domain.Symbol(instrument), Analyst: domain.Analyst(analyst),
			Rating: domain.Rating(int(micros % 9)), BrokerRating: text, Currency: domain.Currency(text), EffectiveAt: at}
	case 2:
		return domain.TargetRevised{Instrument: domain.Symbol(instrument), Analyst: domain.Analyst(analyst), Target: money,
			Currency: domain.Currency(firm), EffectiveAt: at}
	case 3:
		return domain.RatingWithdrawn{Instrument: domain.Symbol(instrument), Analyst: domain.Analyst(analyst), EffectiveAt: at}
	case 4:
		return domain.CloseRecorded{Instrument: domain.Symbol(instrument), Price: money, Currency: domain.Currency(text), EffectiveAt: at}
	case 5:
		return domain.EventRetracted{Instrument: domain.Symbol(instrument), Retracted: uuid.NewSHA1(uuid.NameSpaceURL, []byte(text)),
			Reason: text, EffectiveAt: at}
	default:
		return domain.SplitRecorded{Instrument: domain.Symbol(instrument), Ratio: domain.Ratio{New: micros % 1000, Old: micros % 7}, EffectiveAt: at}
	}
}

// BenchmarkEncodeEvent encodes the examples of every type with their
// metadata, as an import encodes each event it stores, by the fast path
// and by encoding/json.
func BenchmarkEncodeEvent(b *testing.B) {
	examples := domain.Examples()
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, r := range examples {
				if _, err := domain.EncodeEvent(r.Event); err != nil {
					b.Fatal(err)
				}
				if _, err := domain.EncodeMetadata(r.Meta); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, r := range examples {
				if _, err := json.Marshal(r.Event); err != nil {
					b.Fatal(err)
				}
				if _, err := json.Marshal(r.Meta); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
