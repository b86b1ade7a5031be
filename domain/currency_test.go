package domain_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/consensus-ledger/consensus/domain"
)

// An instrument's currency is fixed by the first event that states one, even
// when the stream starts with an event that states none (a withdrawal
// backfilled before its rating) or that event was later retracted.
func TestStreamCurrencyIsTheFirstStated(t *testing.T) {
	s := newStream()
	assert.Equal(t, domain.Currency(""), domain.StreamCurrency(s.history()))

	s.add(domain.RatingWithdrawn{Instrument: baba, Analyst: "a@x", EffectiveAt: at(t, "2025-09-02")})
	assert.Equal(t, domain.Currency(""), domain.StreamCurrency(s.history()))

	first := s.add(rating(t, "a@x", domain.Buy, "170", "2025-09-01"))
	s.add(domain.EventRetracted{Instrument: baba, Retracted: first.ID, Reason: "wrong", EffectiveAt: first.Event.Effective()})
	assert.Equal(t, domain.Currency("USD"), domain.StreamCurrency(s.history()))
	assert.Equal(t, domain.Currency("USD"), domain.NewTimeline(s.history(), at(t, "2030-01-01")).Currency)

	_, err := domain.Decide(s.history(), domain.RecordClose{Instrument: baba, Price: money(t, "1"), Currency: "EUR", EffectiveAt: at(t, "2025-09-03")}, at(t, "2026-01-01"))
	requireInvalid(t, err, "currency")
}

// A batch (an import file, an API request) fixes a new instrument's currency
// by its first row, in the writer's order, that states one, not by the row
// effective first: a USD row followed by an earlier-effective EUR row makes
// the instrument USD and refuses the EUR row, naming both currencies.
func TestFirstCurrencyIsTheWritersFirst(t *testing.T) {
	usd := domain.RecordClose{Instrument: baba, Price: money(t, "155.44"), Currency: "USD", EffectiveAt: at(t, "2025-09-11")}
	eur := domain.RecordClose{Instrument: baba, Price: money(t, "140"), Currency: "EUR", EffectiveAt: at(t, "2025-09-01")}
	withdraw := domain.Withdraw{Instrument: baba, Analyst: "a@x", EffectiveAt: at(t, "2025-08-01")}
	retract := domain.Retract{EventID: testID(1), Reason: "typo"}

	assert.Equal(t, domain.Currency("USD"), domain.FirstCurrency(nil, []domain.Command{withdraw, retract, usd, eur}))
	assert.Equal(t, domain.Currency("EUR"), domain.FirstCurrency(nil, []domain.Command{eur, usd}))
	assert.Equal(t, domain.Currency(""), domain.FirstCurrency(nil, []domain.Command{withdraw, retract}))

	s := newStream()
	s.add(domain.CloseRecorded{Instrument: baba, Price: money(t, "1"), Currency: "HKD", EffectiveAt: at(t, "2025-01-01")})
	assert.Equal(t, domain.Currency("HKD"), domain.FirstCurrency(s.history(), []domain.Command{usd}), "a stored currency stays")

	// The first row in the writer's order fixes the currency, though the
	// other is effective earlier.
	v := domain.Judge(baba, nil, []domain.Entry{{Line: 2, ID: testID(3), Cmd: eur}, {Line: 1, ID: testID(2), Cmd: usd}}, at(t, "2026-01-01"))
	ve := requireInvalid(t, v.Outcomes[0].Err, "currency")
	assert.Equal(t, `currency "EUR" differs from BABA's currency USD`, ve.Error())
}
