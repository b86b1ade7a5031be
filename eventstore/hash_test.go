package eventstore_test

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/eventstore"
)

// referenceHash is the hash chain's definition written as plainly as
// possible; Hash is optimised and must agree with it byte for byte, or every
// stored chain would stop verifying.
func referenceHash(prev [32]byte, id, typ string, data []byte, effectiveAt, recordedAt time.Time) [32]byte {
	return sha256.Sum256(referenceMessage(prev, [][]byte{[]byte(id), []byte(typ), data,
		[]byte(effectiveAt.UTC().Format(time.RFC3339Nano)), []byte(recordedAt.UTC().Format(time.RFC3339Nano))}))
}

// referenceHashV2 is version 2's definition: version 1's fields and the
// metadata.
func referenceHashV2(prev [32]byte, id, typ string, data []byte, effectiveAt, recordedAt time.Time, metadata []byte) [32]byte {
	return sha256.Sum256(referenceMessage(prev, [][]byte{[]byte(id), []byte(typ), data,
		[]byte(effectiveAt.UTC().Format(time.RFC3339Nano)), []byte(recordedAt.UTC().Format(time.RFC3339Nano)), metadata}))
}

// referenceMessage is prev followed by each field, its length first.
func referenceMessage(prev [32]byte, fields [][]byte) []byte {
	msg := append([]byte(nil), prev[:]...)
	for _, f := range fields {
		msg = binary.BigEndian.AppendUint32(msg, uint32(len(f)))
		msg = append(msg, f...)
	}
	return msg
}

// randomBytes is n bytes drawn from rng.
func randomBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.IntN(256))
	}
	return b
}

func TestHashMatchesDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 500 {
		prev := [32]byte(randomBytes(rng, 32))
		data := randomBytes(rng, rng.IntN(600))
		id := uuid.New().String()
		eff := time.Unix(rng.Int64N(4e9), rng.Int64N(1e9)).In(time.FixedZone("x", 3600*rng.IntN(12)))
		rec := time.Unix(rng.Int64N(4e9), rng.Int64N(1e9)/1000*1000)
		typ := []string{"RatingAdded", "CloseRecorded", "", "EventRetracted"}[rng.IntN(4)]
		require.Equal(t, referenceHash(prev, id, typ, data, eff, rec), eventstore.Hash(prev, id, typ, data, eff, rec))
	}
}

// TestRecordHashMatchesDefinition holds RecordHash, which writes the id's
// text itself, to the definition over id.String, for random ids, both
// chain versions, and records larger than its buffer on the stack.
func TestRecordHashMatchesDefinition(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for range 500 {
		prev := [32]byte(randomBytes(rng, 32))
		r := eventstore.Record{EventData: eventstore.EventData{ID: uuid.New(), Type: "TargetRevised",
			Data: randomBytes(rng, rng.IntN(2000)), Metadata: randomBytes(rng, rng.IntN(300)),
			EffectiveAt: time.Unix(rng.Int64N(4e9), rng.Int64N(1e9))}, RecordedAt: time.Unix(rng.Int64N(4e9), rng.Int64N(1e9)/1000*1000)}
		r.Chain = eventstore.ChainV1
		require.Equal(t, referenceHash(prev, r.ID.String(), r.Type, r.Data, r.EffectiveAt, r.RecordedAt), eventstore.RecordHash(prev, r))
		r.Chain = eventstore.ChainV2
		require.Equal(t, referenceHashV2(prev, r.ID.String(), r.Type, r.Data, r.EffectiveAt, r.RecordedAt, r.Metadata), eventstore.RecordHash(prev, r))
	}
}

// TestHashGolden pins one hash, computed independently of Go (Python's
// hashlib over the same bytes), so that a change to the definition itself,
// not only to the code, is caught.
func TestHashGolden(t *testing.T) {
	eff := time.Date(2025, 9, 11, 23, 59, 59, 999999999, time.UTC)
	rec := time.Date(2025, 9, 12, 6, 0, 0, 123000, time.UTC)
	got := eventstore.Hash([32]byte{}, "018f0000-0000-7000-8000-000000000001", "CloseRecorded",
		[]byte(`{"instrument":"BABA","price":"155.44"}`), eff, rec)
	require.Equal(t, "37968383ed8d2ec8175f00477ab5b772ad9dfcf27e8d70bfa8c7bf36aeac4d73", hex.EncodeToString(got[:]))
}

// TestHashV2Golden pins chain version 2 the same way (Python's hashlib over
// version 1's bytes and field(metadata)), with metadata and without.
func TestHashV2Golden(t *testing.T) {
	eff := time.Date(2025, 9, 11, 23, 59, 59, 999999999, time.UTC)
	rec := time.Date(2025, 9, 12, 6, 0, 0, 123000, time.UTC)
	data := []byte(`{"instrument":"BABA","price":"155.44"}`)
	const id = "018f0000-0000-7000-8000-000000000001"
	got := eventstore.HashV2([32]byte{}, id, "CloseRecorded", data, eff, rec, []byte(`{"recorded_by":"j.smith@firm-a","source":"manual"}`))
	require.Equal(t, "ee90a229c747033ee479b86239dd2657973e430a30e42d57005589c652a12e29", hex.EncodeToString(got[:]))
	got = eventstore.HashV2([32]byte{}, id, "CloseRecorded", data, eff, rec, nil)
	require.Equal(t, "f60554dd94132c45a8dd471d5d64d05e1c4fc16272fa6ae91afd8115a7f353bf", hex.EncodeToString(got[:]))

	// RecordHash follows each record's version.
	r := eventstore.Record{EventData: eventstore.EventData{ID: uuid.MustParse(id), Type: "CloseRecorded", Data: data,
		Metadata: []byte(`{"recorded_by":"j.smith@firm-a","source":"manual"}`), EffectiveAt: eff}, RecordedAt: rec, Chain: eventstore.ChainV1}
	v1 := eventstore.RecordHash([32]byte{}, r)
	require.Equal(t, "37968383ed8d2ec8175f00477ab5b772ad9dfcf27e8d70bfa8c7bf36aeac4d73", hex.EncodeToString(v1[:]))
	r.Chain = eventstore.ChainV2
	v2 := eventstore.RecordHash([32]byte{}, r)
	require.Equal(t, "ee90a229c747033ee479b86239dd2657973e430a30e42d57005589c652a12e29", hex.EncodeToString(v2[:]))
}

func BenchmarkHash(b *testing.B) {
	data := make([]byte, 250)
	eff, rec := time.Now(), time.Now()
	b.ReportAllocs()
	for b.Loop() {
		eventstore.Hash([32]byte{}, "018f0000-0000-7000-8000-000000000001", "RatingAdded", data, eff, rec)
	}
}

// BenchmarkRecordHash is the hash of every record a bulk import appends.
func BenchmarkRecordHash(b *testing.B) {
	r := eventstore.Record{EventData: eventstore.EventData{ID: uuid.New(), Type: "CloseRecorded", Data: make([]byte, 110),
		Metadata:    []byte(`{"recorded_by":"cli:root","source":"import:c.jsonl:986504","correlation_id":"01a23dd4-d4f6-7d6a-93db-bb6f156423e0"}`),
		EffectiveAt: time.Now()}, RecordedAt: time.Now(), Chain: eventstore.ChainV2}
	b.ReportAllocs()
	for b.Loop() {
		eventstore.RecordHash([32]byte{}, r)
	}
}

func BenchmarkHashV2(b *testing.B) {
	data := make([]byte, 250)
	meta := []byte(`{"recorded_by":"import","source":"import:gen.jsonl:1234567","correlation_id":"018f0000-0000-7000-8000-000000000001"}`)
	eff, rec := time.Now(), time.Now()
	b.ReportAllocs()
	for b.Loop() {
		eventstore.HashV2([32]byte{}, "018f0000-0000-7000-8000-000000000001", "RatingAdded", data, eff, rec, meta)
	}
}
