package backfill

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore/sqlite"
	"github.com/consensus-ledger/consensus/ledger"
	"github.com/consensus-ledger/consensus/projections"
)

var importNow = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)

// rows is a RowSource over lines written as "field=value;field=value".
type rows struct {
	lines []Line
	i     int
}

func source(specs ...string) *rows {
	r := &rows{}
	for n, spec := range specs {
		line := Line{Number: n + 1, Text: spec}
		for _, kv := range strings.Split(spec, ";") {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "type":
				line.Row.Type = v
			case "instrument":
				line.Row.Instrument = v
			case "analyst":
				line.Row.Analyst = v
			case "rating":
				line.Row.Rating = v
			case "target":
				line.Row.Target = v
			case "price":
				line.Row.Price = v
			case "currency":
				line.Row.Currency = v
			case "at":
				line.Row.At = v
			case "event_id":
				line.Row.EventID = v
			case "reason":
				line.Row.Reason = v
			case "source":
				line.Source = v
			case "id":
				line.ID = uuid.MustParse(v)
			default:
				panic("unknown field " + k)
			}
		}
		r.lines = append(r.lines, line)
	}
	return r
}

func (r *rows) Next() (Line, *Reject, error) {
	if r.i == len(r.lines) {
		return Line{}, nil, io.EOF
	}
	r.i++
	return r.lines[r.i-1], nil, nil
}

type run struct {
	sum     Summary
	rejects []Reject
}

func openLedger(t *testing.T) *ledger.Ledger {
	t.Helper()
	store, err := sqlite.Open(filepath.Join(t.TempDir(), "ledger.db"), sqlite.Options{Now: func() time.Time { return importNow }})
	require.NoError(t, err)
	t.Cleanup(func() { store.Close() })
	return ledger.New(store, ledger.WithClock(func() time.Time { return importNow }))
}

func doImport(t *testing.T, l *ledger.Ledger, src RowSource, opts Options) run {
	t.Helper()
	var r run
	opts.Now = func() time.Time { return importNow }
	opts.OnReject = func(rej Reject) error { r.rejects = append(r.rejects, rej); return nil }
	sum, err := Import(context.Background(), l, src, opts)
	require.NoError(t, err)
	r.sum = sum
	return r
}

func show(t *testing.T, l *ledger.Ledger, sym, asOf string) projections.Consensus {
	t.Helper()
	at, err := domain.ParseTime("as-of", asOf)
	require.NoError(t, err)
	c, err := l.Show(context.Background(), domain.Symbol(sym), projections.Query{AsOf: at, KnownAt: importNow.Add(time.Hour), Window: projections.DefaultWindow})
	require.NoError(t, err)
	return c
}

func TestImportInAnyOrder(t *testing.T) {
	l := openLedger(t)
	// The revision comes first in the file but after the rating in time.
	r := doImport(t, l, source(
		"type=target;instrument=BABA;analyst=a@x;target=180;currency=USD;at=2025-09-05",
		"type=close;instrument=BABA;price=155.44;currency=USD;at=2025-09-11",
		"type=rating;instrument=baba;analyst=a@x;rating=outperform;target=170;currency=usd;at=2025-09-01",
		"type=rating;instrument=BABA;analyst=b@y;rating=hold;target=150;currency=USD;at=2025-09-02",
	), Options{Name: "f.jsonl"})
	assert.Equal(t, Summary{Imported: 4}, r.sum)
	assert.Empty(t, r.rejects)
	c := show(t, l, "BABA", "2025-09-11")
	assert.Equal(t, 2, c.Analysts)
	require.NotNil(t, c.MeanTarget)
	assert.Equal(t, "165", c.MeanTarget.String())

	history, err := l.Load(context.Background(), "BABA")
	require.NoError(t, err)
	assert.Equal(t, "import:f.jsonl:3", history[0].Meta.Source, "stream order is effective-time order")
	assert.NotEmpty(t, history[0].Meta.CorrelationID, "an import run is one correlation")

	again := doImport(t, l, source(
		"type=target;instrument=BABA;analyst=a@x;target=180.000;currency=USD;at=2025-09-05",
		"type=close;instrument=BABA;price=155.440;currency=USD;at=2025-09-11T23:59:59.999999999Z",
		"type=rating;instrument=BABA;analyst=a@x;rating=outperform;target=170.0;currency=USD;at=2025-09-01",
		"type=rating;instrument=BABA;analyst=b@y;rating=hold;target=150;currency=USD;at=2025-09-02",
	), Options{Name: "f.jsonl"})
	assert.Equal(t, Summary{Duplicates: 4}, again.sum, "the same facts, spelled differently, are duplicates")
}

func TestImportJudgesRowsAsOfTheirEffectiveTime(t *testing.T) {
	l := openLedger(t)
	r := doImport(t, l, source(
		"type=rating;instrument=BABA;analyst=a@x;rating=buy;target=170;currency=USD;at=2025-09-01",
		"type=target;instrument=BABA;analyst=a@x;target=160;currency=USD;at=2025-08-01", // before the rating
		"type=withdraw;instrument=BABA;analyst=a@x;at=2025-09-10",
		"type=target;instrument=BABA;analyst=a@x;target=190;currency=USD;at=2025-09-11", // after the withdrawal
		"type=close;instrument=BABA;price=1;currency=EUR;at=2025-09-11",                 // another currency
		"type=rating;instrument=BABA;analyst=c@z;rating=superbuy;currency=USD;at=2025-09-01",
	), Options{})
	assert.Equal(t, Summary{Imported: 2, Rejected: 4}, r.sum)
	require.Len(t, r.rejects, 4)
	byLine := map[int]Reject{}
	for _, rej := range r.rejects {
		byLine[rej.Line] = rej
	}
	assert.Equal(t, "analyst", byLine[2].Field)
	assert.Equal(t, "analyst", byLine[4].Field)
	assert.Equal(t, "currency", byLine[5].Field)
	assert.Equal(t, "rating", byLine[6].Field)
	assert.Contains(t, byLine[2].Reason, "holds no rating")
	assert.Equal(t, "type=target;instrument=BABA;analyst=a@x;target=160;currency=USD;at=2025-08-01", byLine[2].Row)
}

func TestImportRetractions(t *testing.T) {
	l := openLedger(t)
	kept, gone := "0199a000-0000-7000-8000-000000000001", "0199a000-0000-7000-8000-000000000003"
	first := doImport(t, l, source(
		"type=rating;instrument=BABA;analyst=a@x;rating=buy;target=170;currency=USD;at=2025-09-01;id="+kept,
		"type=rating;instrument=BABA;analyst=b@y;rating=sell;target=100;currency=USD;at=2025-09-01;id="+gone,
	), Options{})
	require.Equal(t, 2, first.sum.Imported)

	typo := "0199a000-0000-7000-8000-000000000002"
	r := doImport(t, l, source(
		"type=retract;instrument=BABA;event_id="+typo+";reason=typo", // names a row further down
		"type=target;instrument=BABA;analyst=a@x;target=1650;currency=USD;at=2025-09-03;id="+typo,
		"type=target;instrument=BABA;analyst=a@x;target=165;currency=USD;at=2025-09-03",
		"type=retract;instrument=BABA;event_id="+gone+";reason=wrong analyst", // a stored event
		"type=retract;instrument=BABA;event_id="+gone+";reason=wrong analyst", // the same row again
		"type=retract;instrument=BABA;event_id="+uuid.NewString()+";reason=unknown",
		"type=target;instrument=BABA;analyst=b@y;target=90;currency=USD;at=2025-09-04", // its rating is retracted
		"type=retract;instrument=BABA;event_id="+gone+";reason=again",                  // a second retraction
	), Options{})
	assert.Equal(t, Summary{Imported: 4, Duplicates: 1, Rejected: 3}, r.sum, "two revisions and two retractions land")
	fields, reasons := map[int]string{}, map[int]string{}
	for _, rej := range r.rejects {
		fields[rej.Line], reasons[rej.Line] = rej.Field, rej.Reason
	}
	assert.Equal(t, map[int]string{6: "event_id", 7: "analyst", 8: "event_id"}, fields)
	assert.Equal(t, `event_id "`+gone+`" is already retracted by line 4`, reasons[8])

	c := show(t, l, "BABA", "2025-09-30")
	assert.Equal(t, 1, c.Analysts, "b@y's rating was retracted")
	require.NotNil(t, c.MeanTarget)
	assert.Equal(t, "165", c.MeanTarget.String(), "the 1650 typo was retracted")
	entries, err := l.Log(context.Background(), "BABA")
	require.NoError(t, err)
	retracted := 0
	for _, e := range entries {
		if e.RetractedBy != nil {
			retracted++
			assert.Equal(t, e.Event.Event.Effective(), e.RetractedBy.Event.Effective(), "a retraction takes its target's effective time")
		}
	}
	assert.Equal(t, 2, retracted)
	_, err = l.Verify(context.Background(), "")
	require.NoError(t, err)

	// Retracting the stored rating in the file makes a revision that needs
	// it fail, as it would with the file's rows in place.
	r = doImport(t, l, source(
		"type=target;instrument=BABA;analyst=a@x;target=175;currency=USD;at=2025-09-20",
		"type=retract;instrument=BABA;event_id="+kept+";reason=not ours",
	), Options{})
	assert.Equal(t, Summary{Imported: 1, Rejected: 1}, r.sum)
	require.Len(t, r.rejects, 1)
	assert.Equal(t, 1, r.rejects[0].Line)
}

func TestImportIDs(t *testing.T) {
	l := openLedger(t)
	id := "0199a000-0000-7000-8000-00000000000a"
	r := doImport(t, l, source(
		"type=rating;instrument=BABA;analyst=a@x;rating=buy;target=170;currency=USD;at=2025-09-01;id="+id,
		"type=rating;instrument=BABA;analyst=b@y;rating=buy;target=170;currency=USD;at=2025-09-01;id="+id, // same id, other content
		"type=close;instrument=MSFT;price=400;currency=USD;at=2025-09-01",
	), Options{})
	assert.Equal(t, Summary{Imported: 2, Rejected: 1}, r.sum)
	require.Len(t, r.rejects, 1)
	assert.Equal(t, "id", r.rejects[0].Field)

	// The id is BABA's now; a MSFT row reusing it is refused, the rest lands.
	r = doImport(t, l, source(
		"type=close;instrument=MSFT;price=401;currency=USD;at=2025-09-02;id="+id,
		"type=close;instrument=MSFT;price=402;currency=USD;at=2025-09-03",
	), Options{})
	assert.Equal(t, Summary{Imported: 1, Rejected: 1}, r.sum)
	require.Len(t, r.rejects, 1)
	assert.Equal(t, 1, r.rejects[0].Line)
	assert.Contains(t, r.rejects[0].Reason, "instrument-BABA")
}

func TestDryRunWritesNothing(t *testing.T) {
	l := openLedger(t)
	specs := []string{
		"type=rating;instrument=BABA;analyst=a@x;rating=buy;target=170;currency=USD;at=2025-09-01",
		"type=target;instrument=BABA;analyst=b@y;target=1;currency=USD;at=2025-09-01",
	}
	dry := doImport(t, l, source(specs...), Options{DryRun: true})
	assert.Equal(t, Summary{Imported: 1, Rejected: 1}, dry.sum)
	_, err := l.Show(context.Background(), "BABA", projections.Query{AsOf: importNow, KnownAt: importNow})
	assert.ErrorIs(t, err, ledger.ErrUnknownInstrument)
	real := doImport(t, l, source(specs...), Options{})
	assert.Equal(t, dry.sum, real.sum, "a dry run predicts the real one")
}

// TestSpillingToDiskGivesTheSameResult sorts through temporary files (a
// chunk of 3 rows) and in memory, and compares what lands.
func TestSpillingToDiskGivesTheSameResult(t *testing.T) {
	var specs []string
	for i, sym := range []string{"CCC", "AAA", "BBB"} {
		for d := 9; d >= 1; d-- {
			specs = append(specs, fmt.Sprintf("type=close;instrument=%s;price=%d.%d;currency=USD;at=2025-09-0%d", sym, 10+i, d, d))
		}
		specs = append(specs,
			"type=rating;instrument="+sym+";analyst=a@x;rating=buy;target=10;currency=USD;at=2025-09-02",
			"type=target;instrument="+sym+";analyst=a@x;target=12;currency=USD;at=2025-09-04")
	}
	memory, disk := openLedger(t), openLedger(t)
	a := doImport(t, memory, source(specs...), Options{})
	b := doImport(t, disk, source(specs...), Options{ChunkSize: 3, TempDir: t.TempDir(), BatchSize: 4})
	assert.Equal(t, a.sum, b.sum)
	assert.Equal(t, Summary{Imported: 33}, a.sum)
	for _, sym := range []string{"AAA", "BBB", "CCC"} {
		assert.Equal(t, show(t, memory, sym, "2025-09-09"), show(t, disk, sym, "2025-09-09"), sym)
	}
}

// TestImportRefusesHiddenText: a source or reason with characters a
// terminal would act on is rejected with its line and field, and the rest
// of the file is imported.
func TestImportRefusesHiddenText(t *testing.T) {
	t.Parallel()
	l := openLedger(t)
	r := doImport(t, l, source(
		"type=rating;instrument=BABA;analyst=a@f;rating=buy;target=100;currency=USD;at=2025-01-02;source=desk 7",
		"type=rating;instrument=BABA;analyst=b@f;rating=buy;target=100;currency=USD;at=2025-01-02;source=desk\x1b[8m",
		"type=retract;instrument=BABA;event_id=0199a1b2-0000-7000-8000-000000000000;reason=typo\u202e",
	), Options{Name: "t.jsonl"})
	assert.Equal(t, 1, r.sum.Imported)
	require.Len(t, r.rejects, 2)
	assert.Equal(t, Reject{Line: 2, Field: "source"}, Reject{Line: r.rejects[0].Line, Field: r.rejects[0].Field}, r.rejects[0].Reason)
	assert.Equal(t, Reject{Line: 3, Field: "reason"}, Reject{Line: r.rejects[1].Line, Field: r.rejects[1].Field}, r.rejects[1].Reason)
	assert.Contains(t, r.rejects[0].Reason, `\x1b`, "the value is quoted, not printed raw")
}

// endless is a RowSource of valid close rows that fails with err after n
// rows, or never when n < 0, and counts its calls (atomically: it is read
// on Read's own goroutine).
type endless struct {
	n     int64
	err   error
	calls atomic.Int64
}

func (e *endless) Next() (Line, *Reject, error) {
	i := e.calls.Add(1)
	if e.n >= 0 && i > e.n {
		return Line{}, nil, e.err
	}
	return Line{Number: int(i), Row: domain.Row{Type: "close", Instrument: "ABC", Price: "1.5", Currency: "USD", At: "2025-01-02"}}, nil, nil
}

// TestReadStopsReadingWhenItReturns: Read reads its source on a goroutine
// of its own, ahead of the checks; when it returns, for the source's error
// or a cancelled context, that goroutine has stopped and never asks the
// source again.
func TestReadStopsReadingWhenItReturns(t *testing.T) {
	failing := &endless{n: 5000, err: fmt.Errorf("disk gone")}
	_, err := Read(context.Background(), failing, Options{Now: func() time.Time { return importNow }})
	require.EqualError(t, err, "disk gone")
	assert.Equal(t, int64(5001), failing.calls.Load(), "read to the error, not past it")

	ctx, cancel := context.WithCancel(context.Background())
	forever := &endless{n: -1}
	var seen int
	_, err = Read(ctx, forever, Options{Now: func() time.Time { return importNow }, OnProgress: func(p Progress) {
		if seen = p.Read; seen >= 3*4096 {
			cancel()
		}
	}})
	require.ErrorIs(t, err, context.Canceled)
	stopped := forever.calls.Load()
	// The chunk being checked, those waiting, and the one being filled.
	assert.LessOrEqual(t, stopped, int64(seen+(readAheadChunks+2)*readAhead), "read ahead no further than its chunks")
	time.Sleep(10 * time.Millisecond)
	assert.Equal(t, stopped, forever.calls.Load(), "not read after Read returned")
}
