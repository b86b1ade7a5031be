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
