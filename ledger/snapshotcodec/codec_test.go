package snapshotcodec_test

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/ledger/snapshotcodec"
)

// TestExamplesRoundTrip: one event of every type, every field set, comes
// back from a snapshot unchanged, in the head and (for the close) in a
// chunk, and with skipMeta without its metadata only.
func TestExamplesRoundTrip(t *testing.T) {
	examples := domain.Examples()
	head, chunks := snapshotcodec.Encode(examples)
	got, err := snapshotcodec.Decode(head, chunks)
	require.NoError(t, err)
	require.Equal(t, examples, got)

	bare, err := snapshotcodec.DecodeHead(head, true)
	require.NoError(t, err)
	require.Len(t, bare.Events, len(examples))
	for i, r := range bare.Events {
		want := examples[i]
		want.Meta = domain.Metadata{}
		assert.Equal(t, want, r, "%s without metadata", want.Event.Type())
	}

	for _, r := range examples {
		if _, ok := r.Event.(domain.CloseRecorded); !ok {
			continue
		}
		chunk := snapshotcodec.EncodeChunk([]domain.Recorded{r})
		closes, err := snapshotcodec.DecodeChunk(chunk, false)
		require.NoError(t, err)
		assert.Equal(t, []domain.Recorded{r}, closes, "a close in a chunk")
		closes, err = snapshotcodec.DecodeChunk(chunk, true)
		require.NoError(t, err)
		want := r
		want.Meta = domain.Metadata{}
		assert.Equal(t, []domain.Recorded{want}, closes, "a close in a chunk without metadata")
	}
}

// sampleEvents is one of every event kind, with and without optional parts.
func sampleEvents() []domain.Recorded {
	at := time.Date(2025, 9, 11, 23, 59, 59, 999_999_999, time.UTC)
	target := domain.Money(165_690_000)
	rated := uuid.MustParse("0199a1c2-0000-7000-8000-000000000001")
	return []domain.Recorded{
		{ID: rated, Version: 0, RecordedAt: at.Add(time.Hour), Meta: domain.Metadata{RecordedBy: "cli:ana", Source: "manual", CorrelationID: "c-1", CausationID: "x"},
			Event: domain.RatingAdded{Instrument: "BABA", Analyst: "a@x", Firm: "Firm A", Rating: domain.Buy, BrokerRating: "outperform", Target: &target, Currency: "USD", EffectiveAt: at}},
		{ID: uuid.New(), Version: 1, RecordedAt: at.Add(2 * time.Hour),
			Event: domain.RatingAdded{Instrument: "BABA", Analyst: "b@y", Rating: domain.Hold, BrokerRating: "hold", Currency: "USD", EffectiveAt: at}},
		{ID: uuid.New(), Version: 2, RecordedAt: at.Add(3 * time.Hour),
			Event: domain.TargetRevised{Instrument: "BABA", Analyst: "a@x", Target: 1, Currency: "USD", EffectiveAt: at.Add(-time.Second)}},
		{ID: uuid.New(), Version: 3, RecordedAt: at.Add(4 * time.Hour),
			Event: domain.RatingWithdrawn{Instrument: "BABA", Analyst: "b@y", EffectiveAt: at}},
		{ID: uuid.New(), Version: 4, RecordedAt: at.Add(5 * time.Hour),
			Event: domain.CloseRecorded{Instrument: "BABA", Price: domain.MaxMoney, Currency: "USD", EffectiveAt: time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)}},
		{ID: uuid.New(), Version: 5, RecordedAt: at.Add(6 * time.Hour),
			Event: domain.EventRetracted{Instrument: "BABA", Retracted: rated, Reason: "typo, «quoted»", EffectiveAt: at}},
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	events := sampleEvents()
	head, chunks := snapshotcodec.Encode(events)
	require.Empty(t, chunks, "the only close is the stream's first")
	got, err := snapshotcodec.Decode(head, chunks)
	require.NoError(t, err)
	require.Len(t, got, len(events))
	for i := range events {
		assert.Equal(t, events[i].ID, got[i].ID)
		assert.Equal(t, events[i].Version, got[i].Version)
		assert.True(t, events[i].RecordedAt.Equal(got[i].RecordedAt))
		assert.Equal(t, events[i].Meta, got[i].Meta)
		want, err := domain.EncodeEvent(events[i].Event)
		require.NoError(t, err)
		have, err := domain.EncodeEvent(got[i].Event)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(have), "event %d", i)
	}
}

func TestSnapshotRejectsDamage(t *testing.T) {
	data, _ := snapshotcodec.Encode(sampleEvents())
	for _, bad := range [][]byte{
		nil,
		data[:len(data)-1],
		append(append([]byte(nil), data...), 0),
		append([]byte("not a snapshot"), data...),
	} {
		_, err := snapshotcodec.Decode(bad, nil)
		assert.ErrorIs(t, err, snapshotcodec.ErrMalformed)
	}
}

// chunkedEvents is a stream of many closes (so several chunks), ratings, and
// retractions of closes, which the head keeps.
func chunkedEvents() []domain.Recorded {
	at := time.Date(2020, 1, 1, 21, 0, 0, 0, time.UTC)
	var events []domain.Recorded
	add := func(e domain.Event) uuid.UUID {
		id := uuid.New()
		events = append(events, domain.Recorded{ID: id, Version: int64(len(events)), RecordedAt: at.AddDate(0, 0, len(events)),
			Meta: domain.Metadata{Source: fmt.Sprintf("line %d", len(events))}, Event: e})
		return id
	}
	var retract []uuid.UUID
	for i := range 3*snapshotcodec.ClosesPerChunk + 7 {
		id := add(domain.CloseRecorded{Instrument: "BABA", Price: domain.Money(100_0000 + i), Currency: "USD", EffectiveAt: at.AddDate(0, 0, i)})
		if i%100 == 50 {
			retract = append(retract, id)
		}
		if i%40 == 0 {
			add(domain.RatingAdded{Instrument: "BABA", Analyst: "a@x", Rating: domain.Buy, BrokerRating: "buy", Currency: "USD", EffectiveAt: at.AddDate(0, 0, i)})
		}
	}
	for _, id := range retract {
		add(domain.EventRetracted{Instrument: "BABA", Retracted: id, Reason: "wrong close", EffectiveAt: at})
	}
	return events
}

func TestChunkedSnapshotRoundTrip(t *testing.T) {
	events := chunkedEvents()
	head, chunks := snapshotcodec.Encode(events)
	require.Len(t, chunks, 3, "closes not retracted, beyond the first, in chunks of ClosesPerChunk")
	h, err := snapshotcodec.DecodeHead(head, false)
	require.NoError(t, err)
	for _, r := range h.Events {
		if c, ok := r.Event.(domain.CloseRecorded); ok && r.Version != 0 {
			assert.EqualValues(t, 50, (c.Price-100_0000)%100, "a close in the head is a retracted one")
		}
	}
	got, err := snapshotcodec.Decode(head, chunks)
	require.NoError(t, err)
	require.Equal(t, events, got)

	// A chunk from another snapshot, or missing, is refused.
	other := append([][]byte(nil), chunks...)
	other[1], other[2] = chunks[2], chunks[1]
	_, err = snapshotcodec.Decode(head, other)
	assert.ErrorIs(t, err, snapshotcodec.ErrMalformed)
	_, err = snapshotcodec.Decode(head, chunks[:2])
	assert.ErrorIs(t, err, snapshotcodec.ErrMalformed)
}

// inlineMagic starts a head of the inline format, the snapshots saved
// before the table format.
var inlineMagic = []byte("consensus-decoded-events\x02")

func FuzzDecodeSnapshot(f *testing.F) {
	head, _ := snapshotcodec.Encode(sampleEvents())
	f.Add(head)
	empty, _ := snapshotcodec.Encode(nil)
	f.Add(empty)
	chunkedHead, chunks := snapshotcodec.Encode(chunkedEvents())
	f.Add(chunkedHead)
	f.Add(chunks[0])
	f.Add([]byte("consensus-decoded-events\x02\xff\xff\xff\xff\x0f"))
	inlineHead, _ := snapshotcodec.EncodeLike(inlineMagic, sampleEvents())
	f.Add(inlineHead)
	_, inlineChunks := snapshotcodec.EncodeLike(inlineMagic, chunkedEvents())
	f.Add(inlineChunks[0])
	f.Fuzz(func(t *testing.T, data []byte) {
		// What decodes re-encodes to the same bytes, in its own format:
		// each format has one spelling for every value.
		inline := bytes.HasPrefix(data, inlineMagic) || bytes.HasPrefix(data, []byte("consensus-closes\x01"))
		if h, err := snapshotcodec.DecodeHead(data, false); err == nil {
			if inline {
				assert.Equal(t, data, snapshotcodec.EncodeHeadInline(h))
			} else {
				assert.Equal(t, data, snapshotcodec.EncodeHead(h))
			}
			// Skipping metadata gives the same events without it.
			bare, err := snapshotcodec.DecodeHead(data, true)
			require.NoError(t, err)
			for i := range h.Events {
				h.Events[i].Meta = domain.Metadata{}
			}
			assert.Equal(t, h, bare)
		}
		events, err := snapshotcodec.DecodeChunk(data, false)
		if err != nil {
			return
		}
		if inline {
			assert.Equal(t, data, snapshotcodec.EncodeChunkInline(events))
		} else {
			assert.Equal(t, data, snapshotcodec.EncodeChunk(events))
		}
		// Scanning finds the same closes, each decoding where its
		// reference points.
		refs, err := snapshotcodec.ScanChunk(data)
		require.NoError(t, err)
		require.Len(t, refs, len(events))
		for i, ref := range refs {
			e := events[i]
			assert.Equal(t, snapshotcodec.CloseRef{Offset: ref.Offset, ID: e.ID, Version: e.Version,
				Recorded: e.RecordedAt.UnixNano(), Effective: e.Event.Effective().UnixNano()}, ref)
			got, err := snapshotcodec.DecodeAt(data, ref.Offset)
			require.NoError(t, err)
			assert.Equal(t, e, got)
		}
	})
}

// TestEncodeSplitsAsGathered holds Encode, which writes each event where
// it goes as it walks the stream, to a reference written here that
// gathers the kept events and the closes first: on random streams of
// closes, ratings and retractions (of closes or of the first close),
// crossing chunk boundaries, both give the same bytes.
func TestEncodeSplitsAsGathered(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 2026))
	at := time.Date(2020, 1, 1, 21, 0, 0, 0, time.UTC)
	for round := range 60 {
		var events []domain.Recorded
		var closes []uuid.UUID
		n := rng.IntN(3*snapshotcodec.ClosesPerChunk + 40)
		for i := range n {
			id := uuid.New()
			var e domain.Event
			switch k := rng.IntN(10); {
			case k < 7:
				e = domain.CloseRecorded{Instrument: "BABA", Price: domain.Money(1_000_000 + i), Currency: "USD", EffectiveAt: at.AddDate(0, 0, rng.IntN(900))}
				closes = append(closes, id)
			case k < 9 || len(closes) == 0:
				e = domain.RatingAdded{Instrument: "BABA", Analyst: "a@x", Rating: domain.Buy, BrokerRating: "buy", Currency: "USD", EffectiveAt: at.AddDate(0, 0, i)}
			default:
				e = domain.EventRetracted{Instrument: "BABA", Retracted: closes[rng.IntN(len(closes))], Reason: "wrong", EffectiveAt: at}
			}
			events = append(events, domain.Recorded{ID: id, Version: int64(i), RecordedAt: at.Add(time.Duration(rng.IntN(1e6)) * time.Second),
				Meta: domain.Metadata{Source: fmt.Sprintf("line %d", i)}, Event: e})
		}
		head, chunks := snapshotcodec.Encode(events)
		wantHead, wantChunks := encodeGathered(events)
		require.Equal(t, wantHead, head, "round %d: head", round)
		require.Equal(t, wantChunks, chunks, "round %d: chunks", round)
	}
}

// encodeGathered is the reference for Encode: every close but the first
// and those a retraction names goes in a chunk, ClosesPerChunk a chunk,
// and the head keeps the rest, in stream order.
func encodeGathered(events []domain.Recorded) ([]byte, [][]byte) {
	named := map[uuid.UUID]bool{}
	for _, r := range events {
		if x, ok := r.Event.(domain.EventRetracted); ok {
			named[x.Retracted] = true
		}
	}
	var kept, closes []domain.Recorded
	seenClose := false
	for _, r := range events {
		_, isClose := r.Event.(domain.CloseRecorded)
		if isClose && seenClose && !named[r.ID] {
			closes = append(closes, r)
		} else {
			kept = append(kept, r)
		}
		seenClose = seenClose || isClose
	}
	var chunks [][]byte
	var infos []snapshotcodec.ChunkInfo
	for len(closes) > 0 {
		part := closes[:min(snapshotcodec.ClosesPerChunk, len(closes))]
		closes = closes[len(part):]
		data := snapshotcodec.EncodeChunk(part)
		info := snapshotcodec.ChunkInfo{Count: len(part), MinEffective: math.MaxInt64, MaxEffective: math.MinInt64, MinRecorded: math.MaxInt64, Sum: snapshotcodec.Checksum(data)}
		for _, r := range part {
			at := r.Event.Effective().UnixNano()
			info.MinEffective, info.MaxEffective = min(info.MinEffective, at), max(info.MaxEffective, at)
			info.MinRecorded = min(info.MinRecorded, r.RecordedAt.UnixNano())
		}
		chunks, infos = append(chunks, data), append(infos, info)
	}
	return snapshotcodec.EncodeHead(snapshotcodec.Head{Total: len(events), Chunks: infos, Events: kept}), chunks
}
