package snapshotcodec_test

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/ledger/snapshotcodec"
)

// updateGolden rewrites the golden snapshot files; only a deliberate change
// of the format (with a new magic version) may do that.
var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/golden")

// goldenEvents is a fixed stream of every event kind and enough closes for
// three chunks, with ids and times that never change.
func goldenEvents() []domain.Recorded {
	at := time.Date(2020, 1, 1, 21, 0, 0, 123_456_789, time.UTC)
	var events []domain.Recorded
	add := func(e domain.Event, meta domain.Metadata) uuid.UUID {
		id := uuid.NewSHA1(uuid.NameSpaceOID, fmt.Appendf(nil, "golden-%d", len(events)))
		events = append(events, domain.Recorded{ID: id, Version: int64(len(events)), RecordedAt: at.Add(time.Duration(len(events)) * time.Minute),
			Meta: meta, Event: e})
		return id
	}
	target := domain.Money(165_690_000)
	rated := add(domain.RatingAdded{Instrument: "BABA", Analyst: "a@x", Firm: "Firm A", Rating: domain.Buy, BrokerRating: "outperform",
		Target: &target, Currency: "USD", EffectiveAt: at}, domain.Metadata{RecordedBy: "cli:ana", Source: "manual", CorrelationID: "c-1", CausationID: "x"})
	add(domain.RatingAdded{Instrument: "BABA", Analyst: "b@y", Rating: domain.Hold, BrokerRating: "hold", Currency: "USD", EffectiveAt: at}, domain.Metadata{})
	add(domain.TargetRevised{Instrument: "BABA", Analyst: "a@x", Target: 1, Currency: "USD", EffectiveAt: at.Add(-time.Second)}, domain.Metadata{Source: "s"})
	add(domain.RatingWithdrawn{Instrument: "BABA", Analyst: "b@y", EffectiveAt: at}, domain.Metadata{})
	var retract uuid.UUID
	for i := range 2*256 + 9 {
		id := add(domain.CloseRecorded{Instrument: "BABA", Price: domain.Money(100_0000 + i), Currency: "USD", EffectiveAt: at.AddDate(0, 0, i)},
			domain.Metadata{Source: fmt.Sprintf("import:f.jsonl:%d", i)})
		if i == 77 {
			retract = id
		}
	}
	add(domain.EventRetracted{Instrument: "BABA", Retracted: retract, Reason: "typo, «quoted»", EffectiveAt: at.AddDate(0, 0, 77)}, domain.Metadata{})
	add(domain.EventRetracted{Instrument: "BABA", Retracted: rated, Reason: "wrong", EffectiveAt: at}, domain.Metadata{})
	return events
}

// TestSnapshotBytesAreStable pins the stored form: snapshots already in
// users' ledgers must keep decoding, and verify compares snapshots byte for
// byte, so the same events must always encode to the same bytes.
func TestSnapshotBytesAreStable(t *testing.T) {
	events := goldenEvents()
	head, chunks := snapshotcodec.Encode(events)
	require.Len(t, chunks, 3, "519 chunked closes: 256, 256 and 7")
	files := append([][]byte{head}, chunks...)
	for k, data := range files {
		path := filepath.Join("testdata", "golden", fmt.Sprintf("golden-%d.bin", k))
		if *updateGolden {
			require.NoError(t, os.WriteFile(path, data, 0o644))
			continue
		}
		want, err := os.ReadFile(path)
		require.NoError(t, err)
		require.True(t, bytes.Equal(want, data), "%s: the encoding changed", path)
	}
	got, err := snapshotcodec.Decode(head, chunks)
	require.NoError(t, err)
	require.Equal(t, events, got)
}

// BenchmarkDecodeSnapshot decodes the golden stream's head and chunks: the
// codec alone, without the store, so its figure moves only with the codec.
func BenchmarkDecodeSnapshot(b *testing.B) {
	head, chunks := snapshotcodec.Encode(goldenEvents())
	b.ReportAllocs()
	for b.Loop() {
		if _, err := snapshotcodec.Decode(head, chunks); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncodeSnapshot encodes the golden stream.
func BenchmarkEncodeSnapshot(b *testing.B) {
	events := goldenEvents()
	b.ReportAllocs()
	for b.Loop() {
		snapshotcodec.Encode(events)
	}
}
