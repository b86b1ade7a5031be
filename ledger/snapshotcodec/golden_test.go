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
	requireGolden(t, "table", append([][]byte{head}, chunks...), *updateGolden)
	got, err := snapshotcodec.Decode(head, chunks)
	require.NoError(t, err)
	require.Equal(t, events, got)
	again, _ := snapshotcodec.EncodeLike(head, events)
	require.Equal(t, head, again, "EncodeLike a head of the table format")
}

// TestInlineSnapshotsStillDecode: snapshots saved in the inline format,
// before the table format, decode to the same events, and EncodeLike
// writes them again byte for byte, as verify compares them.
func TestInlineSnapshotsStillDecode(t *testing.T) {
	events := goldenEvents()
	stored := readGolden(t, "inline", 4)
	got, err := snapshotcodec.Decode(stored[0], stored[1:])
	require.NoError(t, err)
	require.Equal(t, events, got)
	head, chunks := snapshotcodec.EncodeLike(stored[0], events)
	require.Equal(t, stored, append([][]byte{head}, chunks...))

	for k, data := range stored[1:] {
		refs, err := snapshotcodec.ScanChunk(data)
		require.NoError(t, err)
		for _, ref := range refs {
			r, err := snapshotcodec.DecodeAt(data, ref.Offset)
			require.NoError(t, err, "chunk %d", k)
			require.Equal(t, events[ref.Version], r)
		}
	}

	// The table format holds the same events in fewer bytes: here, whose
	// closes have only a source, 71 % of them.
	tableHead, tableChunks := snapshotcodec.Encode(events)
	inlineBytes, tableBytes := 0, len(tableHead)
	for k := range stored {
		inlineBytes += len(stored[k])
	}
	for _, c := range tableChunks {
		tableBytes += len(c)
	}
	t.Logf("golden stream: %d bytes inline, %d in the table format", inlineBytes, tableBytes)
	require.Less(t, tableBytes, inlineBytes*3/4)
}

// requireGolden compares files, the head then the chunks, with the golden
// files named after kind, or writes them when update is set.
func requireGolden(t *testing.T, kind string, files [][]byte, update bool) {
	t.Helper()
	if update {
		for k, data := range files {
			require.NoError(t, os.WriteFile(goldenPath(kind, k), data, 0o644))
		}
		return
	}
	want := readGolden(t, kind, len(files))
	for k := range files {
		require.True(t, bytes.Equal(want[k], files[k]), "%s: the encoding changed", goldenPath(kind, k))
	}
}

func readGolden(t *testing.T, kind string, n int) [][]byte {
	t.Helper()
	files := make([][]byte, n)
	for k := range files {
		var err error
		files[k], err = os.ReadFile(goldenPath(kind, k))
		require.NoError(t, err)
	}
	return files
}

func goldenPath(kind string, k int) string {
	return filepath.Join("testdata", "golden", fmt.Sprintf("%s-%d.bin", kind, k))
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
