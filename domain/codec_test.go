package domain_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
)

var retractedID = uuid.MustParse("0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")

// goldenEvents are one event of each type with the exact bytes the ledger
// stores for it: the field names and their order are part of the stored
// format, which the hash chain and content-derived ids depend on.
var goldenEvents = []struct {
	name  string
	event domain.Event
	json  string
}{
	{
		name: "RatingAdded with firm and target",
		event: domain.RatingAdded{
			Instrument: "BABA", Analyst: "j.smith@firm-a", Firm: "Firm A",
			Rating: domain.Buy, BrokerRating: "Outperform", Target: ptr(domain.Money(165_690_000)),
			Currency: "USD", EffectiveAt: time.Date(2025, 9, 1, 23, 59, 59, 999_999_999, time.UTC),
		},
		json: `{"instrument":"BABA","analyst":"j.smith@firm-a","firm":"Firm A","rating":"buy",` +
			`"broker_rating":"Outperform","target":"165.69","currency":"USD",` +
			`"effective_at":"2025-09-01T23:59:59.999999999Z"}`,
	},
	{
		name: "RatingAdded without firm or target",
		event: domain.RatingAdded{
			Instrument: "9988.HK", Analyst: "analyst-2", Rating: domain.StrongSell, BrokerRating: "strong_sell",
			Currency: "HKD", EffectiveAt: time.Date(2025, 9, 2, 8, 30, 0, 0, time.UTC),
		},
		json: `{"instrument":"9988.HK","analyst":"analyst-2","rating":"strong_sell","broker_rating":"strong_sell",` +
			`"currency":"HKD","effective_at":"2025-09-02T08:30:00Z"}`,
	},
	{
		name: "TargetRevised",
		event: domain.TargetRevised{
			Instrument: "BABA", Analyst: "j.smith@firm-a", Target: 152_980_000, Currency: "USD",
			EffectiveAt: time.Date(2025, 9, 5, 14, 0, 0, 123_456_000, time.UTC),
		},
		json: `{"instrument":"BABA","analyst":"j.smith@firm-a","target":"152.98","currency":"USD",` +
			`"effective_at":"2025-09-05T14:00:00.123456Z"}`,
	},
	{
		name: "RatingWithdrawn",
		event: domain.RatingWithdrawn{
			Instrument: "BABA", Analyst: "j.smith@firm-a",
			EffectiveAt: time.Date(2025, 9, 10, 23, 59, 59, 999_999_999, time.UTC),
		},
		json: `{"instrument":"BABA","analyst":"j.smith@firm-a","effective_at":"2025-09-10T23:59:59.999999999Z"}`,
	},
	{
		name: "CloseRecorded",
		event: domain.CloseRecorded{
			Instrument: "BABA", Price: 155_440_000, Currency: "USD",
			EffectiveAt: time.Date(2025, 9, 11, 23, 59, 59, 999_999_999, time.UTC),
		},
		json: `{"instrument":"BABA","price":"155.44","currency":"USD","effective_at":"2025-09-11T23:59:59.999999999Z"}`,
	},
	{
		name: "EventRetracted",
		event: domain.EventRetracted{
			Instrument: "BABA", Retracted: retractedID, Reason: "wrong analyst",
			EffectiveAt: time.Date(2025, 9, 1, 23, 59, 59, 999_999_999, time.UTC),
		},
		json: `{"instrument":"BABA","retracted_event_id":"0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",` +
			`"reason":"wrong analyst","effective_at":"2025-09-01T23:59:59.999999999Z"}`,
	},
	{
		name: "SplitRecorded",
		event: domain.SplitRecorded{
			Instrument: "NVDA", Ratio: domain.Ratio{New: 10, Old: 1},
			EffectiveAt: time.Date(2024, 6, 10, 0, 0, 0, 0, time.UTC),
		},
		json: `{"instrument":"NVDA","ratio":"10:1","effective_at":"2024-06-10T00:00:00Z"}`,
	},
}

func TestEventTypes(t *testing.T) {
	want := []string{"RatingAdded", "RatingAdded", "TargetRevised", "RatingWithdrawn", "CloseRecorded", "EventRetracted", "SplitRecorded"}
	for i, g := range goldenEvents {
		assert.Equal(t, want[i], g.event.Type(), g.name)
	}
	assert.Equal(t, "RatingAdded", domain.TypeRatingAdded)
	assert.Equal(t, "TargetRevised", domain.TypeTargetRevised)
	assert.Equal(t, "RatingWithdrawn", domain.TypeRatingWithdrawn)
	assert.Equal(t, "CloseRecorded", domain.TypeCloseRecorded)
	assert.Equal(t, "EventRetracted", domain.TypeEventRetracted)
	assert.Equal(t, "SplitRecorded", domain.TypeSplitRecorded)
}

func TestEncodeEventGolden(t *testing.T) {
	for _, g := range goldenEvents {
		t.Run(g.name, func(t *testing.T) {
			b, err := domain.EncodeEvent(g.event)
			require.NoError(t, err)
			assert.Equal(t, g.json, string(b))
		})
	}
}

func TestEventRoundTrip(t *testing.T) {
	for _, g := range goldenEvents {
		t.Run(g.name, func(t *testing.T) {
			b, err := domain.EncodeEvent(g.event)
			require.NoError(t, err)

			got, err := domain.DecodeEvent(g.event.Type(), b)
			require.NoError(t, err)
			assert.Equal(t, g.event, got, "decode(encode(e)) is deeply equal to e")
			assert.IsType(t, g.event, got)

			again, err := domain.EncodeEvent(got)
			require.NoError(t, err)
			assert.Equal(t, b, again, "re-encoding gives identical bytes")
		})
	}
}

func TestEncodeEventIsDeterministic(t *testing.T) {
	for _, g := range goldenEvents {
		t.Run(g.name, func(t *testing.T) {
			first, err := domain.EncodeEvent(g.event)
			require.NoError(t, err)
			for range 50 {
				b, err := domain.EncodeEvent(g.event)
				require.NoError(t, err)
				require.Equal(t, first, b)
			}
		})
	}
}

func TestDecodeEventAcceptsWhitespaceAndKeyOrder(t *testing.T) {
	data := "\n  { \"effective_at\": \"2025-09-11T23:59:59.999999999Z\", \"currency\": \"USD\",\n" +
		"  \"price\": \"155.440\", \"instrument\": \"BABA\" }\n\t"
	got, err := domain.DecodeEvent(domain.TypeCloseRecorded, []byte(data))
	require.NoError(t, err)
	assert.Equal(t, goldenEvents[4].event, got)
}

func TestEncodeEventRejectsInvalidEvents(t *testing.T) {
	good := goldenEvents[0].event.(domain.RatingAdded)
	tests := []struct {
		name  string
		event domain.Event
		field string
	}{
		{"lower-case symbol", with(good, func(e *domain.RatingAdded) { e.Instrument = "baba" }), "instrument"},
		{"empty symbol", with(good, func(e *domain.RatingAdded) { e.Instrument = "" }), "instrument"},
		{"no analyst", with(good, func(e *domain.RatingAdded) { e.Analyst = "" }), "analyst"},
		{"analyst with spaces around", with(good, func(e *domain.RatingAdded) { e.Analyst = " x " }), "analyst"},
		{"no rating", with(good, func(e *domain.RatingAdded) { e.Rating = 0 }), "rating"},
		{"zero target", with(good, func(e *domain.RatingAdded) { e.Target = ptr(domain.Money(0)) }), "target"},
		{"target above the maximum", with(good, func(e *domain.RatingAdded) { e.Target = ptr(domain.MaxMoney + 1) }), "target"},
		{"lower-case currency", with(good, func(e *domain.RatingAdded) { e.Currency = "usd" }), "currency"},
		{"no currency", with(good, func(e *domain.RatingAdded) { e.Currency = "" }), "currency"},
		{"no effective time", with(good, func(e *domain.RatingAdded) { e.EffectiveAt = time.Time{} }), "effective_at"},
		{"before 1900", with(good, func(e *domain.RatingAdded) { e.EffectiveAt = time.Date(1899, 12, 31, 0, 0, 0, 0, time.UTC) }), "effective_at"},
		{"revision without target", domain.TargetRevised{Instrument: "BABA", Analyst: "a", Currency: "USD", EffectiveAt: now}, "target"},
		{"close with negative price", domain.CloseRecorded{Instrument: "BABA", Price: -1, Currency: "USD", EffectiveAt: now}, "price"},
		{"withdrawal without analyst", domain.RatingWithdrawn{Instrument: "BABA", EffectiveAt: now}, "analyst"},
		{"retraction without reason", domain.EventRetracted{Instrument: "BABA", Retracted: retractedID, EffectiveAt: now}, "reason"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := domain.EncodeEvent(tt.event)
			requireInvalid(t, err, tt.field)
			assert.Nil(t, b)
		})
	}
	_, err := domain.EncodeEvent(nil)
	assert.Error(t, err, "a nil event")
}

func with[E any](e E, change func(*E)) E {
	change(&e)
	return e
}

// validJSON returns the golden encoding of the event of the given type as a
// map-free template that tests alter with string replacement.
func validJSON(t *testing.T, typ string) string {
	t.Helper()
	for _, g := range goldenEvents {
		if g.event.Type() == typ {
			return g.json
		}
	}
	t.Fatalf("no golden event of type %s", typ)
	return ""
}

func TestDecodeEventRejectsUnknownType(t *testing.T) {
	data := []byte(validJSON(t, domain.TypeCloseRecorded))
	for _, typ := range []string{"", "closerecorded", "CLOSERECORDED", "Close", "RatingRemoved", "CloseRecorded "} {
		t.Run(typ, func(t *testing.T) {
			e, err := domain.DecodeEvent(typ, data)
			require.Error(t, err)
			assert.Nil(t, e)
		})
	}
}

func TestDecodeEventRejectsTheWrongTypeForTheData(t *testing.T) {
	// A close's data is not a rating: the unknown field "price" and the
	// missing analyst give it away.
	e, err := domain.DecodeEvent(domain.TypeRatingAdded, []byte(validJSON(t, domain.TypeCloseRecorded)))
	require.Error(t, err)
	assert.Nil(t, e)
}

func TestDecodeEventRejects(t *testing.T) {
	ra := validJSON(t, domain.TypeRatingAdded)
	tr := validJSON(t, domain.TypeTargetRevised)
	rw := validJSON(t, domain.TypeRatingWithdrawn)
	cr := validJSON(t, domain.TypeCloseRecorded)
	er := validJSON(t, domain.TypeEventRetracted)
	replace := func(s, old, new string) string {
		t.Helper()
		require.Contains(t, s, old, "test template")
		return strings.Replace(s, old, new, 1)
	}

	tests := []struct {
		name, typ, data string
	}{
		// Not one JSON object.
		{"empty data", domain.TypeCloseRecorded, ""},
		{"whitespace", domain.TypeCloseRecorded, "  "},
		{"null", domain.TypeCloseRecorded, "null"},
		{"empty object", domain.TypeCloseRecorded, "{}"},
		{"array", domain.TypeCloseRecorded, "[" + cr + "]"},
		{"string", domain.TypeCloseRecorded, `"BABA"`},
		{"truncated", domain.TypeCloseRecorded, cr[:len(cr)-1]},
		{"invalid UTF-8 outside strings", domain.TypeCloseRecorded, cr + "\xff"},

		// Unknown fields.
		{"unknown field", domain.TypeCloseRecorded, replace(cr, `{`, `{"extra":1,`)},
		{"unknown null field", domain.TypeRatingWithdrawn, replace(rw, `{`, `{"target":null,`)},
		{"field of another type", domain.TypeRatingWithdrawn, replace(rw, `{`, `{"rating":"buy",`)},
		{"metadata inside data", domain.TypeCloseRecorded, replace(cr, `{`, `{"recorded_at":"2025-09-11T23:59:59Z",`)},

		// Trailing data.
		{"second object", domain.TypeCloseRecorded, cr + cr},
		{"second object after space", domain.TypeCloseRecorded, cr + "\n" + cr},
		{"trailing garbage", domain.TypeCloseRecorded, cr + " x"},
		{"trailing number", domain.TypeCloseRecorded, cr + " 1"},
		{"trailing null", domain.TypeCloseRecorded, cr + "null"},
		{"trailing closing brace", domain.TypeCloseRecorded, cr + "}"},
		{"trailing closing bracket", domain.TypeCloseRecorded, cr + "]"},
		{"trailing comma", domain.TypeCloseRecorded, cr + ","},

		// Missing required fields.
		{"rating: no analyst", domain.TypeRatingAdded, replace(ra, `"analyst":"j.smith@firm-a",`, ``)},
		{"rating: no rating", domain.TypeRatingAdded, replace(ra, `"rating":"buy",`, ``)},
		{"rating: no currency", domain.TypeRatingAdded, replace(ra, `"currency":"USD",`, ``)},
		{"rating: no effective_at", domain.TypeRatingAdded, replace(ra, `,"effective_at":"2025-09-01T23:59:59.999999999Z"`, ``)},
		{"rating: no instrument", domain.TypeRatingAdded, replace(ra, `"instrument":"BABA",`, ``)},
		{"revision: no analyst", domain.TypeTargetRevised, replace(tr, `"analyst":"j.smith@firm-a",`, ``)},
		{"revision: no target", domain.TypeTargetRevised, replace(tr, `"target":"152.98",`, ``)},
		{"revision: null target", domain.TypeTargetRevised, replace(tr, `"152.98"`, `null`)},
		{"revision: no currency", domain.TypeTargetRevised, replace(tr, `"currency":"USD",`, ``)},
		{"revision: no effective_at", domain.TypeTargetRevised, replace(tr, `,"effective_at":"2025-09-05T14:00:00.123456Z"`, ``)},
		{"withdrawal: no analyst", domain.TypeRatingWithdrawn, replace(rw, `"analyst":"j.smith@firm-a",`, ``)},
		{"withdrawal: no effective_at", domain.TypeRatingWithdrawn, replace(rw, `,"effective_at":"2025-09-10T23:59:59.999999999Z"`, ``)},
		{"close: no price", domain.TypeCloseRecorded, replace(cr, `"price":"155.44",`, ``)},
		{"close: no currency", domain.TypeCloseRecorded, replace(cr, `"currency":"USD",`, ``)},
		{"close: no effective_at", domain.TypeCloseRecorded, replace(cr, `,"effective_at":"2025-09-11T23:59:59.999999999Z"`, ``)},
		{"retraction: no reason", domain.TypeEventRetracted, replace(er, `"reason":"wrong analyst",`, ``)},
		{"retraction: empty reason", domain.TypeEventRetracted, replace(er, `"wrong analyst"`, `""`)},
		{"retraction: no effective_at", domain.TypeEventRetracted, replace(er, `,"effective_at":"2025-09-01T23:59:59.999999999Z"`, ``)},
		{"retraction: no retracted_event_id", domain.TypeEventRetracted, replace(er, `"retracted_event_id":"0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",`, ``)},
		{"retraction: nil retracted_event_id", domain.TypeEventRetracted, replace(er, `0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b`, uuid.Nil.String())},
		{"retraction: malformed retracted_event_id", domain.TypeEventRetracted, replace(er, `0199a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b`, `not-a-uuid`)},

		// Invalid symbols.
		{"lower-case symbol", domain.TypeCloseRecorded, replace(cr, `"BABA"`, `"baba"`)},
		{"symbol with space", domain.TypeCloseRecorded, replace(cr, `"BABA"`, `"BA BA"`)},
		{"symbol with padding", domain.TypeCloseRecorded, replace(cr, `"BABA"`, `" BABA"`)},
		{"symbol too long", domain.TypeCloseRecorded, replace(cr, `"BABA"`, `"`+strings.Repeat("A", 21)+`"`)},
		{"path-looking symbol", domain.TypeCloseRecorded, replace(cr, `"BABA"`, `"../x"`)},
		{"empty symbol", domain.TypeEventRetracted, replace(er, `"BABA"`, `""`)},
		{"numeric symbol", domain.TypeCloseRecorded, replace(cr, `"BABA"`, `9988`)},

		// Ratings that are not canonical names.
		{"capitalised rating", domain.TypeRatingAdded, replace(ra, `"rating":"buy"`, `"rating":"Buy"`)},
		{"upper-case rating", domain.TypeRatingAdded, replace(ra, `"rating":"buy"`, `"rating":"BUY"`)},
		{"broker word as rating", domain.TypeRatingAdded, replace(ra, `"rating":"buy"`, `"rating":"outperform"`)},
		{"spaced rating", domain.TypeRatingAdded, replace(ra, `"rating":"buy"`, `"rating":"strong buy"`)},
		{"hyphenated rating", domain.TypeRatingAdded, replace(ra, `"rating":"buy"`, `"rating":"strong-buy"`)},
		{"numeric rating", domain.TypeRatingAdded, replace(ra, `"rating":"buy"`, `"rating":2`)},
		{"empty rating", domain.TypeRatingAdded, replace(ra, `"rating":"buy"`, `"rating":""`)},
		{"null rating", domain.TypeRatingAdded, replace(ra, `"rating":"buy"`, `"rating":null`)},

		// Money out of range.
		{"zero price", domain.TypeCloseRecorded, replace(cr, `"155.44"`, `"0"`)},
		{"zero target", domain.TypeTargetRevised, replace(tr, `"152.98"`, `"0.000000"`)},
		{"negative price", domain.TypeCloseRecorded, replace(cr, `"155.44"`, `"-155.44"`)},
		{"price above the maximum", domain.TypeCloseRecorded, replace(cr, `"155.44"`, `"1000000000.000001"`)},
		{"target above the maximum", domain.TypeRatingAdded, replace(ra, `"165.69"`, `"2000000000"`)},

		// Malformed money.
		{"price as a JSON number", domain.TypeCloseRecorded, replace(cr, `"155.44"`, `155.44`)},
		{"target as a JSON number", domain.TypeRatingAdded, replace(ra, `"165.69"`, `165.69`)},
		{"exponent", domain.TypeCloseRecorded, replace(cr, `"155.44"`, `"1e3"`)},
		{"thousands separator", domain.TypeCloseRecorded, replace(cr, `"155.44"`, `"1,000"`)},
		{"7 decimals", domain.TypeCloseRecorded, replace(cr, `"155.44"`, `"155.4400001"`)},
		{"leading plus", domain.TypeCloseRecorded, replace(cr, `"155.44"`, `"+155.44"`)},
		{"padded", domain.TypeCloseRecorded, replace(cr, `"155.44"`, `" 155.44"`)},
		{"empty money", domain.TypeCloseRecorded, replace(cr, `"155.44"`, `""`)},
		{"no whole part", domain.TypeCloseRecorded, replace(cr, `"155.44"`, `".44"`)},
		{"currency in the amount", domain.TypeCloseRecorded, replace(cr, `"155.44"`, `"155.44 USD"`)},

		// Other invalid values.
		{"lower-case currency", domain.TypeCloseRecorded, replace(cr, `"USD"`, `"usd"`)},
		{"two-letter currency", domain.TypeCloseRecorded, replace(cr, `"USD"`, `"US"`)},
		{"bare date as effective_at", domain.TypeCloseRecorded, replace(cr, `"2025-09-11T23:59:59.999999999Z"`, `"2025-09-11"`)},
		{"effective_at before 1900", domain.TypeCloseRecorded, replace(cr, `"2025-09-11T23:59:59.999999999Z"`, `"1899-12-31T23:59:59Z"`)},
		{"zero effective_at", domain.TypeCloseRecorded, replace(cr, `"2025-09-11T23:59:59.999999999Z"`, `"0001-01-01T00:00:00Z"`)},
		{"effective_at as a number", domain.TypeCloseRecorded, replace(cr, `"2025-09-11T23:59:59.999999999Z"`, `1757635199`)},
		{"analyst with control character", domain.TypeRatingWithdrawn, replace(rw, `"j.smith@firm-a"`, `"j.smith\u0000"`)},
		{"analyst with trailing space", domain.TypeRatingWithdrawn, replace(rw, `"j.smith@firm-a"`, `"j.smith "`)},
		{"analyst with bidi override", domain.TypeRatingWithdrawn, replace(rw, `"j.smith@firm-a"`, `"j.smith\u202e"`)},
		{"analyst with invalid UTF-8", domain.TypeRatingWithdrawn, replace(rw, `"j.smith@firm-a"`, "\"j.smith\xff\"")},
		{"analyst too long", domain.TypeRatingWithdrawn, replace(rw, `"j.smith@firm-a"`, `"`+strings.Repeat("a", 101)+`"`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := domain.DecodeEvent(tt.typ, []byte(tt.data))
			require.Error(t, err, "data: %s", tt.data)
			assert.Nil(t, e)
		})
	}
}

func TestDecodeEventErrorsNameTheField(t *testing.T) {
	cr := validJSON(t, domain.TypeCloseRecorded)
	tests := []struct{ name, data, field string }{
		{"instrument", strings.Replace(cr, `"BABA"`, `"baba"`, 1), "instrument"},
		{"currency", strings.Replace(cr, `"USD"`, `"usd"`, 1), "currency"},
		{"effective_at", strings.Replace(cr, `,"effective_at":"2025-09-11T23:59:59.999999999Z"`, ``, 1), "effective_at"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := domain.DecodeEvent(domain.TypeCloseRecorded, []byte(tt.data))
			requireInvalid(t, err, tt.field)
			assert.Contains(t, err.Error(), "decode CloseRecorded")
		})
	}
}

// A key of another event type is refused even when empty, by the fast
// decoder of the canonical form as by encoding/json.
func TestDecodeEventRefusesKeysOfOtherTypes(t *testing.T) {
	for typ, data := range map[string]string{
		domain.TypeTargetRevised:   `{"instrument":"BABA","analyst":"a@x","firm":"","target":"1","currency":"USD","effective_at":"2025-09-11T23:59:59Z"}`,
		domain.TypeCloseRecorded:   `{"instrument":"BABA","price":"1","reason":"","currency":"USD","effective_at":"2025-09-11T23:59:59Z"}`,
		domain.TypeRatingWithdrawn: `{"instrument":"BABA","analyst":"a@x","currency":"","effective_at":"2025-09-11T23:59:59Z"}`,
	} {
		_, err := domain.DecodeEvent(typ, []byte(data))
		assert.Error(t, err, typ)
	}
}
