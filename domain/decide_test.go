package domain_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
)

const analystA = domain.Analyst("j.smith@firm-a")

func rateCmd(tb testing.TB, r domain.Rating, effective string) domain.Rate {
	tb.Helper()
	return domain.Rate{Instrument: baba, Analyst: analystA, Rating: r, Currency: "USD", EffectiveAt: at(tb, effective)}
}

func reviseCmd(tb testing.TB, target, effective string) domain.Revise {
	tb.Helper()
	return domain.Revise{Instrument: baba, Analyst: analystA, Target: money(tb, target), Currency: "USD", EffectiveAt: at(tb, effective)}
}

func withdrawCmd(tb testing.TB, effective string) domain.Withdraw {
	tb.Helper()
	return domain.Withdraw{Instrument: baba, Analyst: analystA, EffectiveAt: at(tb, effective)}
}

func closeCmd(tb testing.TB, price, effective string) domain.RecordClose {
	tb.Helper()
	return domain.RecordClose{Instrument: baba, Price: money(tb, price), Currency: "USD", EffectiveAt: at(tb, effective)}
}

func TestDecideRate(t *testing.T) {
	target := money(t, "165.69")
	cmd := domain.Rate{
		Instrument: baba, Analyst: analystA, Firm: "Firm A", Rating: domain.Buy, BrokerRating: "  Outperform ",
		Target: &target, Currency: "USD", EffectiveAt: at(t, "2025-09-01"),
	}
	e, err := domain.Decide(nil, cmd, now)
	require.NoError(t, err)
	assert.Equal(t, domain.RatingAdded{
		Instrument: baba, Analyst: analystA, Firm: "Firm A", Rating: domain.Buy, BrokerRating: "Outperform",
		Target: &target, Currency: "USD", EffectiveAt: at(t, "2025-09-01"),
	}, e, "the broker's own word is kept, trimmed")
}

func TestDecideRateDefaultsBrokerWordToTheCanonicalName(t *testing.T) {
	for _, r := range []domain.Rating{domain.StrongBuy, domain.Buy, domain.Hold, domain.Sell, domain.StrongSell} {
		for _, broker := range []string{"", "   "} {
			cmd := rateCmd(t, r, "2025-09-01")
			cmd.BrokerRating = broker
			e, err := domain.Decide(nil, cmd, now)
			require.NoError(t, err)
			added, ok := e.(domain.RatingAdded)
			require.True(t, ok, "got %T", e)
			assert.Equal(t, r.String(), added.BrokerRating)
			assert.Equal(t, r, added.Rating)
			assert.Nil(t, added.Target, "a rating without a target carries none")
		}
	}
}

func TestDecideRateSupersedesAnEarlierRating(t *testing.T) {
	s := newStream()
	s.add(rating(t, string(analystA), domain.Buy, "160", "2025-09-01"))
	e, err := domain.Decide(s.history(), rateCmd(t, domain.Sell, "2025-09-05"), now)
	require.NoError(t, err)
	assert.Equal(t, domain.Sell, e.(domain.RatingAdded).Rating)
}

func TestDecideRefusesInvalidCommands(t *testing.T) {
	tests := []struct {
		name  string
		cmd   domain.Command
		field string
	}{
		{"rate without rating", with(rateCmd(t, domain.Buy, "2025-09-01"), func(c *domain.Rate) { c.Rating = 0 }), "rating"},
		{"rate without analyst", with(rateCmd(t, domain.Buy, "2025-09-01"), func(c *domain.Rate) { c.Analyst = "" }), "analyst"},
		{"rate without currency", with(rateCmd(t, domain.Buy, "2025-09-01"), func(c *domain.Rate) { c.Currency = "" }), "currency"},
		{"rate with zero target", with(rateCmd(t, domain.Buy, "2025-09-01"), func(c *domain.Rate) { c.Target = ptr(domain.Money(0)) }), "target"},
		{"rate with lower-case symbol", with(rateCmd(t, domain.Buy, "2025-09-01"), func(c *domain.Rate) { c.Instrument = "baba" }), "instrument"},
		{"rate before 1900", with(rateCmd(t, domain.Buy, "2025-09-01"), func(c *domain.Rate) { c.EffectiveAt = at(t, "1899-12-31") }), "at"},
		{"rate without effective time", with(rateCmd(t, domain.Buy, "2025-09-01"), func(c *domain.Rate) { c.EffectiveAt = time.Time{} }), "at"},
		{"close with zero price", with(closeCmd(t, "1", "2025-09-01"), func(c *domain.RecordClose) { c.Price = 0 }), "price"},
		{"close above the maximum", with(closeCmd(t, "1", "2025-09-01"), func(c *domain.RecordClose) { c.Price = domain.MaxMoney + 1 }), "price"},
		{"close with a bad currency", with(closeCmd(t, "1", "2025-09-01"), func(c *domain.RecordClose) { c.Currency = "US" }), "currency"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := domain.Decide(nil, tt.cmd, now)
			requireInvalid(t, err, tt.field)
			assert.Nil(t, e)
		})
	}
}

type unknownCommand struct{}

func (unknownCommand) Symbol() domain.Symbol { return baba }

func TestDecideRefusesUnknownCommands(t *testing.T) {
	e, err := domain.Decide(nil, unknownCommand{}, now)
	require.Error(t, err)
	assert.Nil(t, e)
}

func TestDecideCurrencyIsFixedByTheFirstEvent(t *testing.T) {
	histories := map[string]func() []domain.Recorded{
		"first event a rating": func() []domain.Recorded {
			s := newStream()
			s.add(rating(t, string(analystA), domain.Buy, "160", "2025-09-01"))
			return s.history()
		},
		"first event a close": func() []domain.Recorded {
			s := newStream()
			s.add(closing(t, "150", "2025-08-29"))
			s.add(rating(t, string(analystA), domain.Buy, "160", "2025-09-01"))
			return s.history()
		},
	}
	for name, history := range histories {
		t.Run(name, func(t *testing.T) {
			eur := []domain.Command{
				with(rateCmd(t, domain.Hold, "2025-09-02"), func(c *domain.Rate) { c.Currency = "EUR" }),
				with(reviseCmd(t, "170", "2025-09-02"), func(c *domain.Revise) { c.Currency = "EUR" }),
				with(closeCmd(t, "150", "2025-09-02"), func(c *domain.RecordClose) { c.Currency = "EUR" }),
			}
			for _, cmd := range eur {
				e, err := domain.Decide(history(), cmd, now)
				ve := requireInvalid(t, err, "currency")
				assert.Equal(t, "EUR", ve.Value)
				assert.Contains(t, err.Error(), "USD", "the error names the instrument's currency")
				assert.Nil(t, e)
			}
			usd := []domain.Command{
				rateCmd(t, domain.Hold, "2025-09-02"),
				reviseCmd(t, "170", "2025-09-02"),
				closeCmd(t, "150", "2025-09-02"),
				withdrawCmd(t, "2025-09-02"),
			}
			for _, cmd := range usd {
				_, err := domain.Decide(history(), cmd, now)
				assert.NoError(t, err, "%T in the instrument's currency", cmd)
			}
		})
	}
}

func TestDecideFirstEventMayUseAnyCurrency(t *testing.T) {
	for _, ccy := range []domain.Currency{"USD", "HKD", "EUR"} {
		cmd := rateCmd(t, domain.Buy, "2025-09-01")
		cmd.Currency = ccy
		_, err := domain.Decide(nil, cmd, now)
		assert.NoError(t, err, ccy)
	}
}

func TestDecideReviseAndWithdrawNeedAHeldRating(t *testing.T) {
	other := newStream()
	other.add(rating(t, "someone-else", domain.Buy, "160", "2025-09-01"))

	backfilled := newStream()
	backfilled.add(rating(t, string(analystA), domain.Buy, "160", "2025-09-01"))

	withdrawn := newStream()
	withdrawn.add(rating(t, string(analystA), domain.Buy, "160", "2025-09-01"))
	withdrawn.add(withdrawal(t, string(analystA), "2025-09-05"))

	retracted := newStream()
	rated := retracted.add(rating(t, string(analystA), domain.Buy, "160", "2025-09-01"))
	retracted.add(retraction(rated, "wrong analyst"))

	rerated := newStream()
	rerated.add(rating(t, string(analystA), domain.Buy, "160", "2025-09-01"))
	rerated.add(withdrawal(t, string(analystA), "2025-09-05"))
	rerated.add(rating(t, string(analystA), domain.Hold, "", "2025-09-08"))

	// Backfilled out of order: the later-recorded rating is effective before
	// the earlier-recorded withdrawal.
	outOfOrder := newStream()
	outOfOrder.add(rating(t, string(analystA), domain.Buy, "160", "2025-09-01"))
	outOfOrder.add(withdrawal(t, string(analystA), "2025-09-05"))
	outOfOrder.add(rating(t, string(analystA), domain.Hold, "", "2025-09-03"))

	sameInstant := newStream()
	sameInstant.add(rating(t, string(analystA), domain.Buy, "160", "2025-09-01"))
	sameInstant.add(withdrawal(t, string(analystA), "2025-09-01"))

	tests := []struct {
		name    string
		history []domain.Recorded
		at      string
		ok      bool
	}{
		{"no history", nil, "2025-09-02", false},
		{"only another analyst rated", other.history(), "2025-09-02", false},
		{"backfill: before the rating", backfilled.history(), "2025-08-01", false},
		{"backfill: just before the rating", backfilled.history(), "2025-09-01T23:59:59.999999998Z", false},
		{"backfill: at the rating's instant", backfilled.history(), "2025-09-01", true},
		{"backfill: after the rating", backfilled.history(), "2025-09-02", true},
		{"before the withdrawal", withdrawn.history(), "2025-09-03", true},
		{"after the withdrawal", withdrawn.history(), "2025-09-06", false},
		{"at the withdrawal's instant", withdrawn.history(), "2025-09-05", false},
		{"rating retracted", retracted.history(), "2025-09-02", false},
		{"withdrawn then rated again: between", rerated.history(), "2025-09-06", false},
		{"withdrawn then rated again: after", rerated.history(), "2025-09-09", true},
		{"out of order: after the later-recorded rating, before the withdrawal", outOfOrder.history(), "2025-09-04", true},
		{"out of order: after the withdrawal", outOfOrder.history(), "2025-09-06", false},
		{"rated and withdrawn at the same instant: stream order decides", sameInstant.history(), "2025-09-02", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, cmd := range []domain.Command{reviseCmd(t, "170", tt.at), withdrawCmd(t, tt.at)} {
				e, err := domain.Decide(tt.history, cmd, now)
				if tt.ok {
					require.NoError(t, err, "%T", cmd)
					assert.Equal(t, at(t, tt.at), e.Effective())
					continue
				}
				ve := requireInvalid(t, err, "analyst")
				assert.Equal(t, string(analystA), ve.Value)
				assert.Nil(t, e)
			}
		})
	}
}

func TestDecideReviseEvent(t *testing.T) {
	s := newStream()
	s.add(rating(t, string(analystA), domain.Buy, "160", "2025-09-01"))
	e, err := domain.Decide(s.history(), reviseCmd(t, "152.98", "2025-09-05T14:00:00Z"), now)
	require.NoError(t, err)
	assert.Equal(t, domain.TargetRevised{
		Instrument: baba, Analyst: analystA, Target: money(t, "152.98"), Currency: "USD",
		EffectiveAt: time.Date(2025, 9, 5, 14, 0, 0, 0, time.UTC),
	}, e)
}

func TestDecideWithdrawEvent(t *testing.T) {
	s := newStream()
	s.add(rating(t, string(analystA), domain.Buy, "160", "2025-09-01"))
	e, err := domain.Decide(s.history(), withdrawCmd(t, "2025-09-10"), now)
	require.NoError(t, err)
	assert.Equal(t, domain.RatingWithdrawn{Instrument: baba, Analyst: analystA, EffectiveAt: at(t, "2025-09-10")}, e)
}

func TestDecideWithdrawTwiceRefused(t *testing.T) {
	s := newStream()
	s.add(rating(t, string(analystA), domain.Buy, "160", "2025-09-01"))
	s.add(withdrawal(t, string(analystA), "2025-09-05"))
	_, err := domain.Decide(s.history(), withdrawCmd(t, "2025-09-06"), now)
	requireInvalid(t, err, "analyst")
}

func TestDecideRecordCloseEvent(t *testing.T) {
	e, err := domain.Decide(nil, closeCmd(t, "155.44", "2025-09-10T20:00:00Z"), now)
	require.NoError(t, err)
	assert.Equal(t, domain.CloseRecorded{
		Instrument: baba, Price: money(t, "155.44"), Currency: "USD",
		EffectiveAt: time.Date(2025, 9, 10, 20, 0, 0, 0, time.UTC),
	}, e)
}

func TestDecideRefusesFutureEffectiveTimes(t *testing.T) {
	s := newStream()
	s.add(rating(t, string(analystA), domain.Buy, "160", "2025-09-01"))
	history := s.history()
	limit := now.Add(5 * time.Minute)

	commands := func(effective time.Time) map[string]domain.Command {
		return map[string]domain.Command{
			"rate":     with(rateCmd(t, domain.Buy, "2025-09-01"), func(c *domain.Rate) { c.EffectiveAt = effective }),
			"revise":   with(reviseCmd(t, "170", "2025-09-01"), func(c *domain.Revise) { c.EffectiveAt = effective }),
			"withdraw": with(withdrawCmd(t, "2025-09-01"), func(c *domain.Withdraw) { c.EffectiveAt = effective }),
			"close":    with(closeCmd(t, "150", "2025-09-01"), func(c *domain.RecordClose) { c.EffectiveAt = effective }),
		}
	}
	for name, cmd := range commands(limit) {
		t.Run(name+" exactly five minutes ahead", func(t *testing.T) {
			_, err := domain.Decide(history, cmd, now)
			assert.NoError(t, err)
		})
	}
	for _, ahead := range []time.Time{limit.Add(time.Nanosecond), limit.Add(time.Hour), at(t, "2025-09-11"), at(t, "2030-01-01")} {
		for name, cmd := range commands(ahead) {
			t.Run(name+" at "+domain.FormatTime(ahead), func(t *testing.T) {
				e, err := domain.Decide(history, cmd, now)
				requireInvalid(t, err, "at")
				assert.Nil(t, e)
			})
		}
	}
}

// TestDecideStoresEffectiveTimesInUTC checks the event Decide returns, the
// one the ledger appends, carries its effective time in UTC: its encoding is
// the canonical one (hash chain, content-derived ids), it survives a round
// trip through the store unchanged, and it encodes like the event the same
// command makes when the time is given in UTC.
func TestDecideStoresEffectiveTimesInUTC(t *testing.T) {
	hkt := time.FixedZone("HKT", 8*3600)
	local := time.Date(2025, 9, 11, 18, 0, 0, 0, hkt) // 10:00Z
	inUTC := local.UTC()

	s := newStream()
	s.add(rating(t, string(analystA), domain.Buy, "160", "2025-09-01"))
	commands := map[string]func(time.Time) domain.Command{
		"rate": func(ts time.Time) domain.Command {
			return with(rateCmd(t, domain.Buy, "2025-09-01"), func(c *domain.Rate) { c.EffectiveAt = ts })
		},
		"revise": func(ts time.Time) domain.Command {
			return with(reviseCmd(t, "170", "2025-09-01"), func(c *domain.Revise) { c.EffectiveAt = ts })
		},
		"withdraw": func(ts time.Time) domain.Command {
			return with(withdrawCmd(t, "2025-09-01"), func(c *domain.Withdraw) { c.EffectiveAt = ts })
		},
		"close": func(ts time.Time) domain.Command {
			return with(closeCmd(t, "150", "2025-09-01"), func(c *domain.RecordClose) { c.EffectiveAt = ts })
		},
	}
	for name, cmd := range commands {
		t.Run(name, func(t *testing.T) {
			fromLocal, err := domain.Decide(s.history(), cmd(local), now)
			require.NoError(t, err)
			fromUTC, err := domain.Decide(s.history(), cmd(inUTC), now)
			require.NoError(t, err)

			assert.Equal(t, "UTC", fromLocal.Effective().Location().String())

			a, err := domain.EncodeEvent(fromLocal)
			require.NoError(t, err)
			b, err := domain.EncodeEvent(fromUTC)
			require.NoError(t, err)
			assert.Equal(t, string(b), string(a), "one instant, one encoding")

			back, err := domain.DecodeEvent(fromLocal.Type(), a)
			require.NoError(t, err)
			assert.Equal(t, fromLocal, back, "the appended event reads back unchanged")
		})
	}
}

func TestDecideRetract(t *testing.T) {
	s := newStream()
	rated := s.add(rating(t, string(analystA), domain.Buy, "160", "2025-09-01T15:04:05.123Z"))
	closed := s.add(closing(t, "150", "2025-08-29"))

	for _, target := range []domain.Recorded{rated, closed} {
		t.Run(target.Event.Type(), func(t *testing.T) {
			e, err := domain.Decide(s.history(), domain.Retract{Instrument: baba, EventID: target.ID, Reason: "  entered twice  "}, now)
			require.NoError(t, err)
			assert.Equal(t, domain.EventRetracted{
				Instrument:  baba,
				Retracted:   target.ID,
				Reason:      "entered twice",
				EffectiveAt: target.Event.Effective(),
			}, e, "the retraction is effective when the retracted event was")
			_, err = domain.EncodeEvent(e)
			assert.NoError(t, err)
		})
	}
}

func TestDecideRetractAnOldEventIsNotRefusedAsFuture(t *testing.T) {
	// The effective time of a retraction is the retracted event's, which
	// may be far in the past; the retraction is not judged by it.
	s := newStream()
	old := s.add(closing(t, "1", "1900-01-01"))
	_, err := domain.Decide(s.history(), domain.Retract{Instrument: baba, EventID: old.ID, Reason: "test"}, now)
	assert.NoError(t, err)
}

func TestDecideRetractRefusals(t *testing.T) {
	s := newStream()
	rated := s.add(rating(t, string(analystA), domain.Buy, "160", "2025-09-01"))
	closed := s.add(closing(t, "150", "2025-09-01"))
	retracting := s.add(retraction(closed, "wrong price"))
	history := s.history()

	tests := []struct {
		name   string
		cmd    domain.Retract
		field  string
		values []string
	}{
		{"unknown id", domain.Retract{Instrument: baba, EventID: uuid.MustParse("0199a1b2-0000-7000-8000-000000000000"), Reason: "x"}, "event_id", nil},
		{"nil id", domain.Retract{Instrument: baba, EventID: uuid.Nil, Reason: "x"}, "event_id", nil},
		{"retraction of a retraction", domain.Retract{Instrument: baba, EventID: retracting.ID, Reason: "x"}, "event_id", nil},
		{"retracting twice", domain.Retract{Instrument: baba, EventID: closed.ID, Reason: "again"}, "event_id", nil},
		{"no reason", domain.Retract{Instrument: baba, EventID: rated.ID}, "reason", nil},
		{"blank reason", domain.Retract{Instrument: baba, EventID: rated.ID, Reason: " \t\n"}, "reason", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := domain.Decide(history, tt.cmd, now)
			ve := requireInvalid(t, err, tt.field)
			if tt.field == "event_id" {
				assert.Equal(t, tt.cmd.EventID.String(), ve.Value, "the error names the id")
			}
			assert.Nil(t, e)
		})
	}
}

func TestDecideRetractAnEventOfAnotherStreamIsUnknown(t *testing.T) {
	elsewhere := newStream()
	rated := elsewhere.add(rating(t, string(analystA), domain.Buy, "160", "2025-09-01"))

	here := []domain.Recorded{{ID: uuid.MustParse("0199a1b2-0000-7000-8000-0000000000ff"), Version: 0,
		RecordedAt: now, Event: closing(t, "150", "2025-09-01")}}
	_, err := domain.Decide(here, domain.Retract{Instrument: baba, EventID: rated.ID, Reason: "x"}, now)
	requireInvalid(t, err, "event_id")
}

func TestDecideDoesNotModifyHistory(t *testing.T) {
	s := newStream()
	s.add(rating(t, string(analystA), domain.Buy, "160", "2025-09-05"))
	s.add(rating(t, "b", domain.Sell, "", "2025-09-01"))
	s.add(closing(t, "150", "2025-09-03"))
	history := s.history()
	before := s.history()
	for _, cmd := range []domain.Command{
		reviseCmd(t, "1", "2025-09-06"),
		withdrawCmd(t, "2025-09-06"),
		domain.Retract{Instrument: baba, EventID: history[0].ID, Reason: "x"},
	} {
		_, err := domain.Decide(history, cmd, now)
		require.NoError(t, err)
		require.Equal(t, before, history, "Decide leaves its history argument untouched (%T)", cmd)
	}
}

// Judge over a batch agrees with Decide row by row, each row against the
// history plus the rows accepted before it in effective-time order, which is
// what lets an import judge its rows in one pass.
func TestJudgeAgreesWithDecide(t *testing.T) {
	s := newStream()
	s.add(rating(t, "a@x", domain.Buy, "170", "2025-09-01"))
	s.add(domain.RatingWithdrawn{Instrument: baba, Analyst: "a@x", EffectiveAt: at(t, "2025-09-05")})
	now := at(t, "2026-01-01")
	var batch []domain.Entry
	for i, day := range []string{"2025-09-07", "2025-08-31", "2025-09-03", "2025-09-01", "2025-09-05"} {
		cmd := reviseCmd(t, "180", day)
		cmd.Analyst = "a@x"
		batch = append(batch, domain.Entry{Line: i + 1, ID: testID(10 + i), Cmd: cmd})
	}
	v := domain.Judge(baba, s.history(), batch, now)
	for i, e := range batch {
		want, wantErr := domain.Decide(s.history(), e.Cmd, now)
		assert.Equal(t, want, v.Outcomes[i].Event, "line %d", e.Line)
		assert.Equal(t, wantErr, v.Outcomes[i].Err, "line %d", e.Line)
	}
}

func TestDescribes(t *testing.T) {
	cmd := rateCmd(t, domain.Buy, "2025-09-01")
	e, err := domain.Decide(nil, cmd, at(t, "2026-01-01"))
	require.NoError(t, err)
	assert.True(t, domain.Describes(cmd, e))
	other := cmd
	other.Firm = "Another Firm"
	assert.False(t, domain.Describes(other, e))
	id := testID(3)
	stored := domain.EventRetracted{Instrument: baba, Retracted: id, Reason: "typo", EffectiveAt: at(t, "2025-09-01")}
	assert.True(t, domain.Describes(domain.Retract{Instrument: baba, EventID: id, Reason: " typo "}, stored),
		"a retraction is what it retracts and why, spaces around the reason aside")
	assert.True(t, domain.Describes(domain.Retract{EventID: id, Reason: "typo"}, stored),
		"a retraction row may leave its instrument to the retracted event")
	assert.False(t, domain.Describes(domain.Retract{Instrument: baba, EventID: id, Reason: "reworded"}, stored),
		"another reason is another retraction")
	assert.False(t, domain.Describes(domain.Retract{Instrument: baba, EventID: testID(4), Reason: "typo"}, stored))
}
