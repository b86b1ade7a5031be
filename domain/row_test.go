package domain_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
)

var rowNow = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func TestRowCommand(t *testing.T) {
	cmd, err := domain.Row{Type: "rating", Instrument: "baba", Analyst: "a@x", Firm: "Firm", Rating: " Outperform ",
		Target: "165.69", Currency: "usd", At: "2025-09-11"}.Command(rowNow)
	require.NoError(t, err)
	target := money(t, "165.69")
	assert.Equal(t, domain.Rate{Instrument: "BABA", Analyst: "a@x", Firm: "Firm", Rating: domain.Buy, BrokerRating: "Outperform",
		Target: &target, Currency: "USD", EffectiveAt: at(t, "2025-09-11")}, cmd)

	cmd, err = domain.Row{Type: "rating", Instrument: "BABA", Analyst: "a@x", Rating: "hold", Currency: "USD", At: "2025-09-11"}.Command(rowNow)
	require.NoError(t, err)
	assert.Nil(t, cmd.(domain.Rate).Target, "a rating row without target carries none")

	cmd, err = domain.Row{Type: "target", Instrument: "BABA", Analyst: "a@x", Target: "170", Currency: "USD", At: "2025-09-12"}.Command(rowNow)
	require.NoError(t, err)
	assert.Equal(t, domain.Revise{Instrument: "BABA", Analyst: "a@x", Target: money(t, "170"), Currency: "USD", EffectiveAt: at(t, "2025-09-12")}, cmd)

	cmd, err = domain.Row{Type: "withdraw", Instrument: "BABA", Analyst: "a@x", At: "2025-09-13"}.Command(rowNow)
	require.NoError(t, err)
	assert.Equal(t, domain.Withdraw{Instrument: "BABA", Analyst: "a@x", EffectiveAt: at(t, "2025-09-13")}, cmd)

	cmd, err = domain.Row{Type: "close", Instrument: "9988.hk", Price: "150.70", Currency: "HKD", At: "2025-09-12"}.Command(rowNow)
	require.NoError(t, err)
	assert.Equal(t, domain.RecordClose{Instrument: "9988.HK", Price: money(t, "150.7"), Currency: "HKD", EffectiveAt: at(t, "2025-09-12")}, cmd)

	id := testID(7)
	cmd, err = domain.Row{Type: "retract", Instrument: "BABA", EventID: id.String(), Reason: "typo"}.Command(rowNow)
	require.NoError(t, err)
	assert.Equal(t, domain.Retract{Instrument: "BABA", EventID: id, Reason: "typo"}, cmd)

	// As on the command line, a retraction may name the event alone: the
	// writer takes the instrument from the retracted event.
	cmd, err = domain.Row{Type: "retract", EventID: id.String(), Reason: "typo"}.Command(rowNow)
	require.NoError(t, err)
	assert.Equal(t, domain.Retract{EventID: id, Reason: "typo"}, cmd)

	// Every input path reads analyst ids and firms in NFC.
	cmd, err = domain.Row{Type: "rating", Instrument: "BABA", Analyst: "rene\u0301@x", Firm: "Soci\u0065\u0301t\u0065\u0301",
		Rating: "buy", Currency: "USD", At: "2025-09-11"}.Command(rowNow)
	require.NoError(t, err)
	assert.Equal(t, domain.Analyst("ren\u00e9@x"), cmd.(domain.Rate).Analyst)
	assert.Equal(t, "Soci\u00e9t\u00e9", cmd.(domain.Rate).Firm)
}

func TestRowCommandNamesTheFieldAtFault(t *testing.T) {
	good := domain.Row{Type: "rating", Instrument: "BABA", Analyst: "a@x", Rating: "buy", Target: "1", Price: "1", Currency: "USD", At: "2025-09-11",
		EventID: testID(1).String(), Reason: "r"}
	with := func(f func(*domain.Row)) domain.Row { r := good; f(&r); return r }
	for _, tc := range []struct {
		name  string
		row   domain.Row
		field string
	}{
		{"unknown type", with(func(r *domain.Row) { r.Type = "upgrade" }), "type"},
		{"no instrument", with(func(r *domain.Row) { r.Instrument = "" }), "instrument"},
		{"bad instrument", with(func(r *domain.Row) { r.Instrument = "BA/BA" }), "instrument"},
		{"no analyst", with(func(r *domain.Row) { r.Analyst = "" }), "analyst"},
		{"no rating", with(func(r *domain.Row) { r.Rating = "" }), "rating"},
		{"unknown rating", with(func(r *domain.Row) { r.Rating = "superbuy" }), "rating"},
		{"bad target", with(func(r *domain.Row) { r.Target = "1e3" }), "target"},
		{"no currency", with(func(r *domain.Row) { r.Currency = "" }), "currency"},
		{"no time", with(func(r *domain.Row) { r.At = "" }), "at"},
		{"future time", with(func(r *domain.Row) { r.At = "2027-01-01" }), "at"},
		{"revision without target", with(func(r *domain.Row) { r.Type, r.Target = "target", "" }), "target"},
		{"close without price", with(func(r *domain.Row) { r.Type, r.Price = "close", "" }), "price"},
		{"close with zero price", with(func(r *domain.Row) { r.Type, r.Price = "close", "0" }), "price"},
		{"retraction without id", with(func(r *domain.Row) { r.Type, r.EventID = "retract", "" }), "event_id"},
		{"retraction of a non-UUID", with(func(r *domain.Row) { r.Type, r.EventID = "retract", "42" }), "event_id"},
		{"retraction of a bad instrument", with(func(r *domain.Row) { r.Type, r.Instrument = "retract", ".." }), "instrument"},
		{"rating of a symbol starting with a dot", with(func(r *domain.Row) { r.Instrument = "." }), "instrument"},
		{"retraction without reason", with(func(r *domain.Row) { r.Type, r.Reason = "retract", " " }), "reason"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.row.Command(rowNow)
			requireInvalid(t, err, tc.field)
		})
	}
}

func FuzzRowCommand(f *testing.F) {
	f.Add("rating", "BABA", "a@x", "Firm", "outperform", "165.69", "", "USD", "2025-09-11", "", "")
	f.Add("close", "9988.HK", "", "", "", "", "150.7", "HKD", "2025-09-12T08:00:00Z", "", "")
	f.Add("retract", "BABA", "", "", "", "", "", "", "", "6f1c1d55-7c1e-4d2b-9a53-3c1f0e5b8a11", "typo")
	f.Add("retract", "", "", "", "", "", "", "", "", "6f1c1d55-7c1e-4d2b-9a53-3c1f0e5b8a11", "typo")
	f.Add("rating", "-2-3", "rene\u0301@x", "Soci\u0065\u0301t\u0065\u0301", "buy", "", "", "USD", "2016-12-31T23:59:60Z", "", "")
	f.Fuzz(func(t *testing.T, typ, instrument, analyst, firm, rating, target, price, currency, at, eventID, reason string) {
		row := domain.Row{Type: typ, Instrument: instrument, Analyst: analyst, Firm: firm, Rating: rating, Target: target,
			Price: price, Currency: currency, At: at, EventID: eventID, Reason: reason}
		cmd, err := row.Command(rowNow)
		if err != nil {
			var v *domain.ValidationError
			require.ErrorAs(t, err, &v, "every refusal names a field")
			return
		}
		switch cmd.(type) {
		case domain.Retract, domain.Revise, domain.Withdraw:
			return // judged against history, which this target has none of
		}
		// An accepted rating or close always makes an event the ledger can store.
		e, err := domain.Decide(nil, cmd, rowNow)
		require.NoError(t, err)
		_, err = domain.EncodeEvent(e)
		require.NoError(t, err)
	})
}
