package disclosures

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
)

// history builds one instrument's stream, recorded in order on 1 Jan 2026.
type history struct {
	sym    domain.Symbol
	events []domain.Recorded
}

func (h *history) add(e domain.Event) uuid.UUID {
	id := uuid.NewSHA1(uuid.NameSpaceOID, []byte{byte(len(h.events))})
	h.events = append(h.events, domain.Recorded{ID: id, Version: int64(len(h.events)),
		RecordedAt: time.Date(2026, 1, 1, 0, 0, len(h.events), 0, time.UTC), Event: e})
	return id
}

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return domain.EndOfDay(t)
}

func money(s string) *domain.Money {
	m, err := domain.ParseMoney("amount", s)
	if err != nil {
		panic(err)
	}
	return &m
}

func (h *history) rate(analyst, firm string, r domain.Rating, target, at string) uuid.UUID {
	e := domain.RatingAdded{Instrument: h.sym, Analyst: domain.Analyst(analyst), Firm: firm, Rating: r,
		BrokerRating: r.String(), Currency: "USD", EffectiveAt: day(at)}
	if target != "" {
		e.Target = money(target)
	}
	return h.add(e)
}

func (h *history) revise(analyst, target, at string) uuid.UUID {
	return h.add(domain.TargetRevised{Instrument: h.sym, Analyst: domain.Analyst(analyst), Target: *money(target), Currency: "USD", EffectiveAt: day(at)})
}

func (h *history) close(price, at string) {
	h.add(domain.CloseRecorded{Instrument: h.sym, Price: *money(price), Currency: "USD", EffectiveAt: day(at)})
}

var known = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// TestAnalystMovingFirm: a revision belongs to the firm named by the
// analyst's latest rating at or before it, so an analyst who moves from A
// to B takes revisions to B only from the first rating under B.
func TestAnalystMovingFirm(t *testing.T) {
	h := &history{sym: "XYZ"}
	h.close("10", "2025-01-02")
	h.rate("ann", "Firm A", domain.Buy, "12", "2025-01-10")
	h.revise("ann", "13", "2025-02-10") // A's: her latest rating names A
	h.close("11", "2025-03-01")
	h.rate("ann", "Firm B", domain.Hold, "11.5", "2025-03-05") // B's, a downgrade
	h.revise("ann", "12", "2025-04-10")                        // B's
	q := Query{Firm: "Firm A", AsOf: day("2025-06-30"), KnownAt: known, Months: 12}

	a, ok := Part("XYZ", h.events, q)
	require.True(t, ok)
	require.Len(t, a.Recommendations, 2)
	assert.Equal(t, "RatingAdded", a.Recommendations[0].Type)
	assert.Equal(t, "13", a.Recommendations[1].Target.String())
	assert.Equal(t, "10", a.Recommendations[1].CloseAtPublication.String(), "the close of 2 January, the latest before 10 February")
	assert.Nil(t, a.Holding, "Firm A no longer holds a rating: ann's rating is B's")

	q.Firm = "Firm B"
	b, ok := Part("XYZ", h.events, q)
	require.True(t, ok)
	require.Len(t, b.Recommendations, 2)
	assert.Equal(t, "downgrade", *b.Recommendations[0].RatingAction, "against the rating she held at A")
	assert.Equal(t, "11", b.Recommendations[1].CloseAtPublication.String())
	require.NotNil(t, b.Holding)
	assert.Equal(t, "hold", b.Holding.Bucket)
	require.NotNil(t, b.Chart)
	assert.Equal(t, day("2025-03-05"), b.Chart.From, "B's chart starts at its first rating")
	assert.Equal(t, []string{"2025-03-05 hold 11.5", "2025-04-10 hold 12"}, labels(b.Chart.Markers))

	_, ok = Part("XYZ", h.events, Query{Firm: "Firm C", AsOf: day("2025-06-30"), KnownAt: known, Months: 12})
	assert.False(t, ok, "a firm no rating names adds nothing")
}

func labels(ms []Marker) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Label())
	}
	return out
}

// TestDistributionLatestRatingAndWindow: of two analysts of the firm on one
// instrument the latest effective rating counts; with a window, a rating
// not refreshed within it does not.
func TestDistributionLatestRatingAndWindow(t *testing.T) {
	h := &history{sym: "XYZ"}
	h.rate("ann", "F", domain.Sell, "", "2025-01-10")
	h.rate("bob", "F", domain.StrongBuy, "", "2025-02-10")
	q := Query{Firm: "F", AsOf: day("2025-06-30"), KnownAt: known, Months: 1}
	p, ok := Part("XYZ", h.events, q)
	require.True(t, ok)
	assert.Equal(t, "bob", string(p.Holding.Analyst))
	assert.Equal(t, "buy", p.Holding.Bucket)
	assert.Empty(t, p.Recommendations, "nothing in the month to 30 June")

	q.Window = 90 * 24 * time.Hour
	_, ok = Part("XYZ", h.events, q)
	assert.False(t, ok, "both ratings are older than 90 days")
}

// TestSharesAddUpTo100: the largest remainder method gives each bucket its
// exact share rounded up or down, adding up to exactly 100.00.
func TestSharesAddUpTo100(t *testing.T) {
	for _, tt := range []struct {
		counts [3]int
		want   [3]Pct
	}{
		{[3]int{1, 1, 1}, [3]Pct{3334, 3333, 3333}},
		{[3]int{2, 1, 0}, [3]Pct{6667, 3333, 0}},
		{[3]int{1, 0, 0}, [3]Pct{10000, 0, 0}},
		{[3]int{1, 5, 1}, [3]Pct{1429, 7143, 1428}}, // 14.2857, 71.4285, 14.2857: the tie of buy and sell goes to buy
		{[3]int{0, 0, 0}, [3]Pct{0, 0, 0}},
	} {
		assert.Equal(t, tt.want, shares(tt.counts), "%v", tt.counts)
	}
	assert.Equal(t, "33.34", Pct(3334).String())
	assert.Equal(t, "0.00", Pct(0).String())
	assert.Equal(t, "100.00", Pct(10000).String())
}

func TestClosest(t *testing.T) {
	firms := []string{"Crescent Capital", "Meridian Capital", "Ural Capital"}
	assert.Equal(t, []string{"Meridian Capital"}, Closest("Meridian Capitol", firms, 3))
	assert.Equal(t, []string{"Meridian Capital"}, Closest("meridian", firms, 3), "a part of the name, in any case")
	assert.Empty(t, Closest("Zzyzx", firms, 3))
	require.NoError(t, CheckMonths("months", 1))
	require.NoError(t, CheckMonths("months", 120))
	assert.EqualError(t, CheckMonths("months", 0), `months "0" must be a whole number of months from 1 to 120`)
}

// TestNamesHonoursKnownAtAndRetractions: a firm is known at T only through
// a rating recorded by T and not retracted by a retraction recorded by T.
func TestNamesHonoursKnownAtAndRetractions(t *testing.T) {
	h := &history{sym: "XYZ"}
	id := h.rate("ann", "F", domain.Buy, "", "2025-01-10") // recorded 2026-01-01T00:00:00
	assert.True(t, Names(h.events, "F", known))
	assert.False(t, Names(h.events, "F", time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC)), "not yet recorded")
	assert.False(t, Names(h.events, "G", known))
	h.add(domain.EventRetracted{Instrument: "XYZ", Retracted: id, Reason: "wrong firm", EffectiveAt: day("2025-01-10")}) // recorded 00:00:01
	assert.False(t, Names(h.events, "F", known), "retracted by then")
	assert.True(t, Names(h.events, "F", time.Date(2026, 1, 1, 0, 0, 0, 500, time.UTC)), "known before its retraction")
}
