package domain_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
)

// now is the ledger clock pinned for every test that judges effective times.
var now = time.Date(2025, 9, 11, 12, 0, 0, 0, time.UTC)

// at parses a date or RFC 3339 time the way the ledger does, failing the test
// on a bad literal.
func at(tb testing.TB, text string) time.Time {
	tb.Helper()
	t, err := domain.ParseTime("at", text)
	require.NoError(tb, err, "test literal %q", text)
	return t
}

// money parses an exact decimal, failing the test on a bad literal.
func money(tb testing.TB, text string) domain.Money {
	tb.Helper()
	m, err := domain.ParseMoney("amount", text)
	require.NoError(tb, err, "test literal %q", text)
	return m
}

func ptr[T any](v T) *T { return &v }

// requireInvalid checks err is a *domain.ValidationError naming field.
func requireInvalid(tb testing.TB, err error, field string) *domain.ValidationError {
	tb.Helper()
	require.Error(tb, err)
	var ve *domain.ValidationError
	require.ErrorAs(tb, err, &ve, "error %q is not a *domain.ValidationError", err)
	require.Equal(tb, field, ve.Field, "error %q names the wrong field", err)
	return ve
}

// idNamespace derives deterministic event ids for tests.
var idNamespace = uuid.MustParse("6f1c3a52-8d0e-4a55-9a57-0c1d2e3f4a5b")

func testID(n int) uuid.UUID { return uuid.NewSHA1(idNamespace, []byte(strconv.Itoa(n))) }

// stream builds one instrument's history in stream order, the way a store
// hands it to Decide and NewTimeline: versions from 0, non-decreasing
// recorded times, deterministic ids.
type stream struct {
	events []domain.Recorded
	clock  time.Time
}

func newStream() *stream {
	return &stream{clock: time.Date(2025, 10, 1, 9, 0, 0, 0, time.UTC)}
}

// add appends e, recorded one second after the previous event.
func (s *stream) add(e domain.Event) domain.Recorded {
	s.clock = s.clock.Add(time.Second)
	return s.addAt(s.clock, e)
}

// addAt appends e with the given recorded time.
func (s *stream) addAt(recordedAt time.Time, e domain.Event) domain.Recorded {
	r := domain.Recorded{
		ID:         testID(len(s.events)),
		Version:    int64(len(s.events)),
		RecordedAt: recordedAt,
		Event:      e,
	}
	s.events = append(s.events, r)
	if recordedAt.After(s.clock) {
		s.clock = recordedAt
	}
	return r
}

// history returns a copy of the stream, so a test cannot alias it by accident.
func (s *stream) history() []domain.Recorded {
	return append([]domain.Recorded(nil), s.events...)
}

const baba = domain.Symbol("BABA")

func rating(tb testing.TB, analyst string, r domain.Rating, target string, effective string) domain.RatingAdded {
	tb.Helper()
	e := domain.RatingAdded{
		Instrument:   baba,
		Analyst:      domain.Analyst(analyst),
		Rating:       r,
		BrokerRating: r.String(),
		Currency:     "USD",
		EffectiveAt:  at(tb, effective),
	}
	if target != "" {
		e.Target = ptr(money(tb, target))
	}
	return e
}

func revision(tb testing.TB, analyst, target, effective string) domain.TargetRevised {
	tb.Helper()
	return domain.TargetRevised{
		Instrument:  baba,
		Analyst:     domain.Analyst(analyst),
		Target:      money(tb, target),
		Currency:    "USD",
		EffectiveAt: at(tb, effective),
	}
}

func withdrawal(tb testing.TB, analyst, effective string) domain.RatingWithdrawn {
	tb.Helper()
	return domain.RatingWithdrawn{Instrument: baba, Analyst: domain.Analyst(analyst), EffectiveAt: at(tb, effective)}
}

func closing(tb testing.TB, price, effective string) domain.CloseRecorded {
	tb.Helper()
	return domain.CloseRecorded{Instrument: baba, Price: money(tb, price), Currency: "USD", EffectiveAt: at(tb, effective)}
}

func retraction(target domain.Recorded, reason string) domain.EventRetracted {
	return domain.EventRetracted{
		Instrument:  target.Event.Symbol(),
		Retracted:   target.ID,
		Reason:      reason,
		EffectiveAt: target.Event.Effective(),
	}
}
