package projections_test

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/projections"
)

// t0 is when the test ledgers start recording: after every effective time
// the tests use, as a backfill would be.
var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// later is a transaction time after everything the tests record.
var later = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// ledger builds one instrument's stream in memory, the way the event store
// would hand it to a projection: ids, versions and non-decreasing recorded
// times (one second apart unless set with recordAt).
type ledger struct {
	tb     testing.TB
	sym    domain.Symbol
	ccy    domain.Currency
	events []domain.Recorded
	next   time.Time // recorded time of the next event
}

func newLedger(tb testing.TB, sym domain.Symbol, ccy domain.Currency) *ledger {
	return &ledger{tb: tb, sym: sym, ccy: ccy, next: t0}
}

// recordAt sets the recorded time of the next event.
func (l *ledger) recordAt(t time.Time) *ledger {
	l.next = t
	return l
}

func (l *ledger) add(e domain.Event) uuid.UUID {
	v := int64(len(l.events))
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(v))
	id := uuid.NewSHA1(uuid.NameSpaceOID, append([]byte(l.sym), b[:]...))
	l.events = append(l.events, domain.Recorded{ID: id, Version: v, RecordedAt: l.next, Event: e})
	l.next = l.next.Add(time.Second)
	return id
}

// recorded returns the recorded time of the event with the given id.
func (l *ledger) recorded(id uuid.UUID) time.Time {
	for _, r := range l.events {
		if r.ID == id {
			return r.RecordedAt
		}
	}
	l.tb.Fatalf("no event %s", id)
	return time.Time{}
}

func (l *ledger) rate(analyst, word, target, at string) uuid.UUID {
	l.tb.Helper()
	r, err := domain.ParseRating(word)
	require.NoError(l.tb, err)
	e := domain.RatingAdded{Instrument: l.sym, Analyst: domain.Analyst(analyst), Rating: r, BrokerRating: word,
		Currency: l.ccy, EffectiveAt: when(l.tb, at)}
	if target != "" {
		m := money(l.tb, target)
		e.Target = &m
	}
	return l.add(e)
}

func (l *ledger) rateWithFirm(analyst, firm, word, target, at string) uuid.UUID {
	l.tb.Helper()
	id := l.rate(analyst, word, target, at)
	e := l.events[len(l.events)-1].Event.(domain.RatingAdded)
	e.Firm = firm
	l.events[len(l.events)-1].Event = e
	return id
}

func (l *ledger) revise(analyst, target, at string) uuid.UUID {
	l.tb.Helper()
	return l.add(domain.TargetRevised{Instrument: l.sym, Analyst: domain.Analyst(analyst),
		Target: money(l.tb, target), Currency: l.ccy, EffectiveAt: when(l.tb, at)})
}

func (l *ledger) withdraw(analyst, at string) uuid.UUID {
	l.tb.Helper()
	return l.add(domain.RatingWithdrawn{Instrument: l.sym, Analyst: domain.Analyst(analyst), EffectiveAt: when(l.tb, at)})
}

func (l *ledger) close(price, at string) uuid.UUID {
	l.tb.Helper()
	return l.add(domain.CloseRecorded{Instrument: l.sym, Price: money(l.tb, price), Currency: l.ccy, EffectiveAt: when(l.tb, at)})
}

func (l *ledger) retract(id uuid.UUID, reason string) uuid.UUID {
	l.tb.Helper()
	for _, r := range l.events {
		if r.ID == id {
			return l.add(domain.EventRetracted{Instrument: l.sym, Retracted: id, Reason: reason, EffectiveAt: r.Event.Effective()})
		}
	}
	l.tb.Fatalf("no event %s to retract", id)
	return uuid.Nil
}

// when reads a bare date (end of that day) or an RFC 3339 time.
func when(tb testing.TB, text string) time.Time {
	tb.Helper()
	t, err := domain.ParseTime("at", text)
	require.NoError(tb, err)
	return t
}

func money(tb testing.TB, text string) domain.Money {
	tb.Helper()
	m, err := domain.ParseMoney("amount", text)
	require.NoError(tb, err)
	return m
}

// str prints an optional figure, "null" when absent, so tables can state
// expected figures as plain strings.
func str(d *projections.Decimal) string {
	if d == nil {
		return "null"
	}
	return d.String()
}
