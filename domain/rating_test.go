package domain_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
)

// ratingWords is CONTRACT section 1: every canonical word and every broker
// synonym, with the rating it maps onto.
var ratingWords = []struct {
	word string
	want domain.Rating
}{
	{"strong_buy", domain.StrongBuy},
	{"buy", domain.Buy},
	{"hold", domain.Hold},
	{"sell", domain.Sell},
	{"strong_sell", domain.StrongSell},
	{"outperform", domain.Buy},
	{"overweight", domain.Buy},
	{"accumulate", domain.Buy},
	{"neutral", domain.Hold},
	{"equal_weight", domain.Hold},
	{"market_perform", domain.Hold},
	{"sector_perform", domain.Hold},
	{"underperform", domain.Sell},
	{"underweight", domain.Sell},
	{"reduce", domain.Sell},
}

func TestParseRatingEveryWord(t *testing.T) {
	for _, tt := range ratingWords {
		variants := []string{
			tt.word,
			strings.ToUpper(tt.word),
			titleWords(tt.word),
			strings.ReplaceAll(tt.word, "_", "-"),
			strings.ReplaceAll(tt.word, "_", " "),
			strings.ReplaceAll(titleWords(tt.word), "_", "-"),
			strings.ReplaceAll(strings.ToUpper(tt.word), "_", " "),
			"  " + tt.word + " ",
		}
		for _, in := range variants {
			t.Run(in, func(t *testing.T) {
				got, err := domain.ParseRating(in)
				require.NoError(t, err)
				assert.Equal(t, tt.want, got)
				assert.True(t, got.Valid())
			})
		}
	}
}

// titleWords capitalises each underscore-separated word: "equal_weight" ->
// "Equal_Weight".
func titleWords(s string) string {
	parts := strings.Split(s, "_")
	for i, p := range parts {
		parts[i] = strings.ToUpper(p[:1]) + p[1:]
	}
	return strings.Join(parts, "_")
}

func TestParseRatingRejects(t *testing.T) {
	for _, in := range []string{
		"",
		" ",
		"strongbuy",
		"strong__buy",
		"strong  buy",
		"strong\tbuy",
		"strong.buy",
		"buy!",
		"buyy",
		"b",
		"outperformer",
		"market perform!",
		"conviction_buy",
		"positive",
		"1",
		"2",
		"BUY;DROP",
		"бай",
		"\x00buy",
		"buy\xff",
	} {
		t.Run(in, func(t *testing.T) {
			got, err := domain.ParseRating(in)
			ve := requireInvalid(t, err, "rating")
			assert.Equal(t, in, ve.Value, "the error shows the word as given")
			assert.False(t, got.Valid())
		})
	}
}

func TestRatingScoreBucketName(t *testing.T) {
	tests := []struct {
		r      domain.Rating
		name   string
		score  int
		bucket domain.Bucket
	}{
		{domain.StrongBuy, "strong_buy", 1, domain.BucketBuy},
		{domain.Buy, "buy", 2, domain.BucketBuy},
		{domain.Hold, "hold", 3, domain.BucketHold},
		{domain.Sell, "sell", 4, domain.BucketSell},
		{domain.StrongSell, "strong_sell", 5, domain.BucketSell},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.True(t, tt.r.Valid())
			assert.Equal(t, tt.name, tt.r.String())
			assert.Equal(t, tt.score, tt.r.Score())
			assert.Equal(t, tt.bucket, tt.r.Bucket())

			back, err := domain.ParseRating(tt.r.String())
			require.NoError(t, err)
			assert.Equal(t, tt.r, back)

			text, err := tt.r.MarshalText()
			require.NoError(t, err)
			assert.Equal(t, tt.name, string(text))
			var u domain.Rating
			require.NoError(t, u.UnmarshalText(text))
			assert.Equal(t, tt.r, u)
		})
	}
}

func TestRatingOffTheScale(t *testing.T) {
	for _, r := range []domain.Rating{0, -1, 6, 100} {
		assert.False(t, r.Valid(), "rating %d", int(r))
		_, err := r.MarshalText()
		requireInvalid(t, err, "rating")
	}
}

func TestRatingUnmarshalTextAcceptsOnlyCanonicalNames(t *testing.T) {
	// Stored events hold the canonical name; broker words and other
	// spellings belong in broker_rating, never in rating.
	for _, in := range []string{"Buy", "BUY", "outperform", "strong buy", "strong-buy", " buy", "", "2"} {
		t.Run(in, func(t *testing.T) {
			var r domain.Rating
			err := r.UnmarshalText([]byte(in))
			requireInvalid(t, err, "rating")
			assert.Zero(t, r)
		})
	}
}

func TestRatingJSON(t *testing.T) {
	b, err := json.Marshal(struct {
		R domain.Rating `json:"r"`
	}{domain.StrongSell})
	require.NoError(t, err)
	assert.JSONEq(t, `{"r":"strong_sell"}`, string(b))

	var v struct {
		R domain.Rating `json:"r"`
	}
	require.Error(t, json.Unmarshal([]byte(`{"r":5}`), &v), "a rating is never stored as a number")
}
