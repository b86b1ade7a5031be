package backfill

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/ledger"
)

// rejectsByLine indexes a run's rejects by line, as "field: reason".
func rejectsByLine(r run) map[int]string {
	m := map[int]string{}
	for _, rej := range r.rejects {
		m[rej.Line] = rej.Field + ": " + rej.Reason
	}
	return m
}

// A retract row may leave out its instrument, as the command line does: the
// retracted event's is taken, whether the event is stored or a row of the
// same file, before or after the retraction.
func TestImportRetractionWithoutInstrument(t *testing.T) {
	l := openLedger(t)
	stored := "0199a000-0000-7000-8000-000000000001"
	first := doImport(t, l, source(
		"type=rating;instrument=BABA;analyst=a@x;rating=buy;target=170;currency=USD;at=2025-09-01;id="+stored,
	), Options{})
	require.Equal(t, Summary{Imported: 1}, first.sum)

	inFile, unknown := "0199a000-0000-7000-8000-000000000002", uuid.NewString()
	retraction := "0199a000-0000-7000-8000-000000000003"
	r := doImport(t, l, source(
		"type=retract;event_id="+stored+";reason=wrong analyst",                         // a stored event
		"type=retract;event_id="+inFile+";reason=typo",                                  // a row further down
		"type=close;instrument=9988.HK;price=150;currency=HKD;at=2025-09-02;id="+inFile, // another instrument
		"type=retract;event_id="+unknown+";reason=unknown",                              // nowhere
		"type=retract;instrument=BABA;event_id="+inFile+";reason=mine",                  // the wrong instrument
		"type=retract;event_id="+stored+";reason=wrong analyst",                         // the same row again
		"type=retract;event_id="+stored+";reason=again, reworded",                       // a second retraction
		"type=retract;event_id="+retraction+";reason=a retraction",                      // names the next row
		"type=retract;event_id="+uuid.NewString()+";reason=unknown too;id="+retraction,  // without instrument
	), Options{})
	assert.Equal(t, Summary{Imported: 3, Duplicates: 1, Rejected: 5}, r.sum)
	assert.Equal(t, map[int]string{
		4: `event_id: event_id "` + unknown + `" is not an event of this ledger or of this file`,
		5: `event_id: event_id "` + inFile + `" is not an event of BABA`,
		7: `event_id: event_id "` + stored + `" is already retracted by line 1`,
		8: `event_id: event_id "` + retraction + `" is a retraction, which cannot itself be retracted`,
		9: rejectsByLine(r)[9], // its own target is unknown
	}, rejectsByLine(r))
	assert.Contains(t, rejectsByLine(r)[9], "is not an event of this ledger or of this file")

	entries, err := l.Log(context.Background(), "BABA")
	require.NoError(t, err)
	require.Len(t, entries, 2)
	assert.Equal(t, domain.EventRetracted{Instrument: "BABA", Retracted: uuid.MustParse(stored), Reason: "wrong analyst",
		EffectiveAt: entries[0].Event.Event.Effective()}, entries[1].Event.Event)
	hk, err := l.Log(context.Background(), "9988.HK")
	require.NoError(t, err)
	require.Len(t, hk, 2, "the close and its retraction, in the close's stream")

	// The same file again writes nothing; a second retraction of a stored
	// event is refused in the command line's words.
	again := doImport(t, l, source(
		"type=retract;event_id="+stored+";reason=wrong analyst",
		"type=retract;event_id="+stored+";reason=another reason",
	), Options{})
	assert.Equal(t, Summary{Duplicates: 1, Rejected: 1}, again.sum)
	_, cliErr := l.Retract(context.Background(), uuid.MustParse(stored), "another reason", ledger.WriteOptions{})
	require.Error(t, cliErr)
	assert.Equal(t, map[int]string{2: "event_id: " + cliErr.Error()}, rejectsByLine(again))
}

// Retraction ids cover their reason now; a file that an earlier version
// imported (its retractions under ids derived from instrument and target
// alone) imports again as duplicates, not as second retractions.
func TestImportRetractionUnderTheFormerIDIsADuplicate(t *testing.T) {
	l := openLedger(t)
	target := "0199a000-0000-7000-8000-000000000001"
	former := uuid.NewSHA1(uuid.MustParse("3d0c5b0e-8f4b-5c1a-9d59-6a3c0e9b7f21"), []byte("retract|BABA|"+target))
	setup := doImport(t, l, source(
		"type=rating;instrument=BABA;analyst=a@x;rating=buy;target=170;currency=USD;at=2025-09-01;id="+target,
		"type=retract;instrument=BABA;event_id="+target+";reason=typo;id="+former.String(),
	), Options{})
	require.Equal(t, Summary{Imported: 2}, setup.sum)

	r := doImport(t, l, source(
		"type=retract;instrument=BABA;event_id="+target+";reason=typo",
		"type=retract;event_id="+target+";reason=typo",
	), Options{})
	assert.Equal(t, Summary{Duplicates: 2}, r.sum, "the same rows an earlier version imported")

	r = doImport(t, l, source("type=retract;event_id="+target+";reason=other words"), Options{})
	assert.Equal(t, Summary{Rejected: 1}, r.sum, "another reason is a second retraction")
	assert.Equal(t, map[int]string{1: `event_id: event_id "` + target + `" was already retracted by ` + former.String()}, rejectsByLine(r))
}

// The first row of the file that states a currency fixes a new
// instrument's, whatever its effective time: a USD row on line 1 followed
// by an earlier EUR row makes the instrument USD and rejects the EUR row.
func TestImportCurrencyIsFixedByTheFilesFirstRow(t *testing.T) {
	l := openLedger(t)
	r := doImport(t, l, source(
		"type=withdraw;instrument=BABA;analyst=a@x;at=2025-08-01",
		"type=close;instrument=BABA;price=155.44;currency=USD;at=2025-09-11",
		"type=close;instrument=BABA;price=140;currency=EUR;at=2025-09-01",
		"type=close;instrument=BABA;price=150;currency=usd;at=2025-09-02",
	), Options{})
	assert.Equal(t, Summary{Imported: 2, Rejected: 2}, r.sum)
	assert.Equal(t, map[int]string{
		1: `analyst: analyst "a@x" holds no rating on BABA at 2025-08-01T23:59:59.999999999Z`,
		3: `currency: currency "EUR" differs from BABA's currency USD`,
	}, rejectsByLine(r))
	c := show(t, l, "BABA", "2025-09-30")
	assert.Equal(t, "USD", c.Currency)
}

// An analyst id or firm typed in NFD is the NFC one: the same row in both
// forms is one event, and one analyst.
func TestImportNormalisesAnalystsToNFC(t *testing.T) {
	l := openLedger(t)
	r := doImport(t, l, source(
		"type=rating;instrument=BABA;analyst=ren\u00e9@x;rating=buy;target=170;currency=USD;at=2025-09-01",
		"type=rating;instrument=BABA;analyst=rene\u0301@x;rating=buy;target=170;currency=USD;at=2025-09-01",
		"type=target;instrument=BABA;analyst=rene\u0301@x;target=180;currency=USD;at=2025-09-02",
	), Options{})
	assert.Equal(t, Summary{Imported: 2, Duplicates: 1}, r.sum)
	c := show(t, l, "BABA", "2025-09-30")
	assert.Equal(t, 1, c.Analysts)
	assert.Equal(t, "180", c.MeanTarget.String())
}

// Retraction rows without instrument wait in memory for the instruments of
// what they retract; past MaxUnplacedRetractions, a row is rejected asking
// for its instrument, so the memory an import holds stays bounded.
func TestUnplacedRetractionsAreBounded(t *testing.T) {
	var u unplaced
	for i := 0; i < MaxUnplacedRetractions; i++ {
		require.Nil(t, u.add(&item{line: i + 1}))
	}
	rej := u.add(&item{line: MaxUnplacedRetractions + 1, text: "row"})
	require.NotNil(t, rej)
	assert.Equal(t, Reject{Line: MaxUnplacedRetractions + 1, Field: "instrument", Row: "row",
		Reason: "instrument is required: the file has more than 10000 retraction rows without one"}, *rej)
	assert.Len(t, u.items, MaxUnplacedRetractions)
}
