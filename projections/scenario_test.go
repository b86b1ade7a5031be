package projections_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/projections"
)

// reference is the Alibaba scenario of the shared seed facts: 18 analysts
// active on BABA as of Thursday 2025-09-11, 17 buy and 1 hold, targets whose
// exact mean is 165.69, the closes of Wednesday to Friday, and some history
// before September (an upgrade, revisions, a withdrawal, a stale rating and a
// retracted typo).
type reference struct {
	*ledger
	typo, typoRetraction, withdrawal uuid.UUID
}

func babaHistory(tb testing.TB) reference {
	l := newLedger(tb, "BABA", "USD")
	r := reference{ledger: l}
	// Before September: the stale, withdrawn and revised analysts.
	l.rateWithFirm("analyst-19", "Firm S", "buy", "130", "2025-03-10") // stale by September
	l.rateWithFirm("analyst-20", "Firm T", "hold", "110", "2025-05-15")
	l.rateWithFirm("analyst-01", "Firm A", "buy", "150", "2025-06-20")
	l.rateWithFirm("analyst-02", "Firm B", "buy", "180", "2025-07-01")
	l.rateWithFirm("analyst-16", "Firm P", "buy", "150", "2025-08-05")
	l.rateWithFirm("analyst-17", "Firm Q", "neutral", "148", "2025-08-15")
	r.withdrawal = l.withdraw("analyst-20", "2025-08-20")
	l.rateWithFirm("analyst-01", "Firm A", "strong_buy", "200", "2025-08-29") // an upgrade
	for _, a := range []struct{ id, firm, word, target, at string }{
		{"analyst-03", "Firm C", "outperform", "175", "2025-08-25"},
		{"analyst-04", "Firm D", "overweight", "172", "2025-08-26"},
		{"analyst-05", "Firm E", "buy", "170", "2025-08-27"},
		{"analyst-06", "Firm F", "strong_buy", "170", "2025-08-28"},
		{"analyst-07", "Firm G", "buy", "168", "2025-08-29"},
		{"analyst-08", "Firm H", "accumulate", "166", "2025-09-01"},
		{"analyst-09", "Firm I", "buy", "165", "2025-09-02"},
		{"analyst-10", "Firm J", "outperform", "165", "2025-09-03"},
		{"analyst-11", "Firm K", "buy", "163", "2025-09-04"},
		{"analyst-12", "Firm L", "overweight", "160", "2025-09-04"},
		{"analyst-13", "Firm M", "buy", "160", "2025-09-05"},
		{"analyst-14", "Firm N", "buy", "158", "2025-09-08"},
		{"analyst-15", "Firm O", "buy", "155", "2025-09-09"},
		{"analyst-18", "Firm R", "buy", "140", "2025-09-10"},
	} {
		l.rateWithFirm(a.id, a.firm, a.word, a.target, a.at)
	}
	l.revise("analyst-16", "152.42", "2025-09-02")
	l.revise("analyst-02", "195", "2025-09-05")
	r.typo = l.revise("analyst-05", "1700", "2025-09-08")
	r.typoRetraction = l.retract(r.typo, "typo: the target is 170, not 1700")
	l.close("141.2", "2025-09-08")
	l.close("142.05", "2025-09-09")
	l.close("143.93", "2025-09-10")
	l.close("155.44", "2025-09-11")
	l.close("152.98", "2025-09-12")
	return r
}

func TestReferenceScenario(t *testing.T) {
	r := babaHistory(t)
	query := func(asOf string) projections.Consensus {
		return projections.Show("BABA", r.events, projections.Query{AsOf: when(t, asOf), KnownAt: later, Window: projections.DefaultWindow, Explain: true})
	}
	type want struct {
		analysts, buy, hold, sell int
		label                     string
		figures
		closeAt string
	}
	thursday := want{18, 17, 1, 0, projections.LabelStrongBuy,
		figures{"18", "165.69", "165", "200", "140", "14.14", "155.44", "6.59"}, "2025-09-11"}
	friday := thursday
	friday.figures.Close, friday.figures.Upside, friday.closeAt = "152.98", "8.31", "2025-09-12"
	for _, tt := range []struct {
		asOf string
		want want
	}{
		{"2025-09-11", thursday},
		{"2025-09-12T15:00:00Z", thursday}, // before the US close: still Thursday's close
		{"2025-09-12", friday},
	} {
		t.Run(tt.asOf, func(t *testing.T) {
			c := query(tt.asOf)
			assert.Equal(t, "BABA", c.Instrument)
			assert.Equal(t, "USD", c.Currency)
			assert.Equal(t, 90, c.WindowDays)
			assert.Equal(t, tt.want, want{c.Analysts, c.Buy, c.Hold, c.Sell, c.Label, figuresOf(c), c.CloseAt.Format(time.DateOnly)})
			assert.Equal(t, "1.94", str(c.MeanRating)) // two strong buys, fifteen buys, one hold: 35/18
		})
	}

	t.Run("explain", func(t *testing.T) {
		c := query("2025-09-11")
		require.Len(t, c.Explain, 20)
		byAnalyst := map[string]projections.AnalystExplain{}
		for _, e := range c.Explain {
			byAnalyst[e.Analyst] = e
		}
		assert.Equal(t, "analyst-01", c.Explain[0].Analyst)
		assert.Equal(t, "analyst-20", c.Explain[19].Analyst)

		a01 := byAnalyst["analyst-01"]
		assert.Equal(t, projections.StatusCounted, a01.Status)
		assert.Equal(t, "counted: strong_buy since 2025-08-29, target 200 set 2025-08-29", a01.Reason)
		assert.Equal(t, "Firm A", a01.Firm)

		a02 := byAnalyst["analyst-02"]
		assert.Equal(t, "counted: buy since 2025-07-01, target 195 set 2025-09-05", a02.Reason)
		assert.NotEqual(t, *a02.RatingEventID, *a02.TargetEventID)

		a03 := byAnalyst["analyst-03"]
		assert.Equal(t, []string{"buy", "outperform"}, []string{a03.Rating, a03.BrokerRating})

		a05 := byAnalyst["analyst-05"]
		assert.Equal(t, "170", str(a05.Target))
		assert.Equal(t, []string{"event " + r.typo.String() + " (TargetRevised, 2025-09-08) retracted by " +
			r.typoRetraction.String() + ": typo: the target is 170, not 1700"}, a05.Notes)

		a19 := byAnalyst["analyst-19"]
		assert.Equal(t, projections.StatusStale, a19.Status)
		assert.Equal(t, "stale: last rating or target event 2025-03-10, outside the 90-day window", a19.Reason)

		a20 := byAnalyst["analyst-20"]
		assert.Equal(t, projections.StatusWithdrawn, a20.Status)
		assert.Equal(t, "withdrawn on 2025-08-20 (event "+r.withdrawal.String()+")", a20.Reason)
		assert.Equal(t, "hold", a20.Rating) // the rating that was withdrawn, for context
	})

	t.Run("the consensus moved over the summer", func(t *testing.T) {
		c := query("2025-08-20")
		// analyst-01 (buy 150), -02 (buy 180), -16 (buy 150), -17 (neutral 148);
		// -19's March rating is already stale and -20 withdrew that day.
		assert.Equal(t, []int{4, 3, 1, 0}, []int{c.Analysts, c.Buy, c.Hold, c.Sell})
		assert.Equal(t, "157", str(c.MeanTarget))
		assert.Nil(t, c.Close)
	})

	t.Run("the Hong Kong listing is its own instrument, in HKD", func(t *testing.T) {
		hk := newLedger(t, "9988.HK", "HKD")
		hk.rate("hk-analyst", "buy", "170", "2025-09-01")
		hk.close("143.31", "2025-09-11")
		hk.close("150.7", "2025-09-12")
		c := projections.Show("9988.HK", hk.events, projections.Query{AsOf: when(t, "2025-09-12"), KnownAt: later, Window: projections.DefaultWindow})
		assert.Equal(t, []string{"9988.HK", "HKD", "150.7", "12.81"}, []string{c.Instrument, c.Currency, str(c.Close), str(c.UpsidePct)})
	})
}
