package esdb

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/eventstore"
)

func sampleEnvelope(meta []byte) envelope {
	return envelope{
		RecordedAt:  time.Date(2025, 9, 12, 8, 0, 0, 123456000, time.UTC),
		EffectiveAt: time.Date(2025, 9, 11, 23, 59, 59, 999999999, time.FixedZone("HKT", 8*3600)),
		PrevHash:    sha256.Sum256([]byte("prev")),
		Hash:        sha256.Sum256([]byte("hash")),
		Metadata:    meta,
		Chain:       eventstore.ChainV1,
	}
}

func TestMetadataRoundTrip(t *testing.T) {
	cases := []struct {
		name     string
		meta     []byte
		embedded bool // kept as JSON rather than base64
	}{
		{"LedgerJSON", []byte(`{"recorded_by":"j.smith@firm-a","source":"import:file.jsonl:12"}`), true},
		{"JSONWithSpacesInside", []byte(`{ "a" : [1, 2] }`), true},
		{"HTMLCharacters", []byte(`{"note":"<b>&</b>"}`), true},
		{"JSONString", []byte(`"plain"`), true},
		{"JSONNull", []byte(`null`), true},
		{"LeadingSpace", []byte(` {"a":1}`), false},
		{"TrailingNewline", []byte("{\"a\":1}\n"), false},
		{"NotJSON", []byte{0, 1, 2, 0xff}, false},
		{"InvalidUTF8InString", []byte("\"\xff\""), false},
		{"None", nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := sampleEnvelope(tc.meta)
			b := encodeMetadata(in)
			require.True(t, json.Valid(b), "the metadata is JSON: %s", b)
			assert.Equal(t, tc.embedded, bytes.Contains(b, []byte(`"metadata":`)), "embedded as JSON: %s", b)
			out, err := decodeMetadata(b)
			require.NoError(t, err)
			assert.True(t, in.RecordedAt.Equal(out.RecordedAt))
			assert.True(t, in.EffectiveAt.Equal(out.EffectiveAt))
			assert.Equal(t, in.EffectiveAt.UnixNano(), out.EffectiveAt.UnixNano())
			assert.Equal(t, in.PrevHash, out.PrevHash)
			assert.Equal(t, in.Hash, out.Hash)
			assert.Equal(t, tc.meta, out.Metadata)
		})
	}
}

// TestMetadataLayout pins the layout other tools (the server's UI,
// projections, scripts) read.
func TestMetadataLayout(t *testing.T) {
	e := sampleEnvelope([]byte(`{"source":"manual"}`))
	e.PrevHash = [32]byte{}
	got := string(encodeMetadata(e))
	want := `{"consensus":1,"recorded_at":"2025-09-12T08:00:00.123456Z","effective_at":"2025-09-11T15:59:59.999999999Z",` +
		`"prev_hash":"0000000000000000000000000000000000000000000000000000000000000000",` +
		`"hash":"` + hexOf(e.Hash) + `","metadata":{"source":"manual"}}`
	assert.Equal(t, want, got)
}

func hexOf(h [32]byte) string {
	const digits = "0123456789abcdef"
	b := make([]byte, 64)
	for i, c := range h {
		b[2*i], b[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(b)
}

// TestMetadataLayoutV2 pins the layout of a record of chain version 2: the
// same keys, "consensus" giving the version.
func TestMetadataLayoutV2(t *testing.T) {
	e := sampleEnvelope([]byte(`{"source":"manual"}`))
	e.PrevHash, e.Chain = [32]byte{}, eventstore.ChainV2
	want := `{"consensus":2,"recorded_at":"2025-09-12T08:00:00.123456Z","effective_at":"2025-09-11T15:59:59.999999999Z",` +
		`"prev_hash":"0000000000000000000000000000000000000000000000000000000000000000",` +
		`"hash":"` + hexOf(e.Hash) + `","metadata":{"source":"manual"}}`
	assert.Equal(t, want, string(encodeMetadata(e)))
	out, err := decodeMetadata([]byte(want))
	require.NoError(t, err)
	assert.Equal(t, eventstore.ChainV2, out.Chain)
}

// TestMetadataHashesWhatItStores checks that the times and metadata read
// back hash to the stored hash, by either chain version, whatever zone the
// effective time was given in.
func TestMetadataHashesWhatItStores(t *testing.T) {
	for _, chain := range []int{eventstore.ChainV1, eventstore.ChainV2} {
		e := sampleEnvelope([]byte(`{"recorded_by":"j.smith@firm-a"}`))
		e.Chain = chain
		r := eventstore.Record{EventData: eventstore.EventData{ID: [16]byte{1}, Type: "T", Data: []byte("{}"), EffectiveAt: e.EffectiveAt,
			Metadata: e.Metadata}, RecordedAt: e.RecordedAt, Chain: chain}
		e.Hash = eventstore.RecordHash(e.PrevHash, r)
		out, err := decodeMetadata(encodeMetadata(e))
		require.NoError(t, err)
		r.EffectiveAt, r.RecordedAt, r.Metadata, r.Chain = out.EffectiveAt, out.RecordedAt, out.Metadata, out.Chain
		assert.Equal(t, out.Hash, eventstore.RecordHash(out.PrevHash, r), "chain version %d", chain)
	}
}

func TestMetadataRefusesOthers(t *testing.T) {
	good := encodeMetadata(sampleEnvelope([]byte(`{"a":1}`)))
	cases := map[string]string{
		"Empty":           ``,
		"NotJSON":         `not json`,
		"Array":           `[]`,
		"ForeignMetadata": `{"$correlationId":"x"}`,
		"OtherFormat":     `{"consensus":3}`,
		"NoRecordedAt":    `{"consensus":1,"effective_at":"2025-09-11T00:00:00Z","prev_hash":"` + zeros + `","hash":"` + zeros + `"}`,
		"BadTime":         `{"consensus":1,"recorded_at":"yesterday","effective_at":"2025-09-11T00:00:00Z","prev_hash":"` + zeros + `","hash":"` + zeros + `"}`,
		"ShortHash":       `{"consensus":1,"recorded_at":"2025-09-11T00:00:00Z","effective_at":"2025-09-11T00:00:00Z","prev_hash":"00","hash":"` + zeros + `"}`,
		"NotHex":          `{"consensus":1,"recorded_at":"2025-09-11T00:00:00Z","effective_at":"2025-09-11T00:00:00Z","prev_hash":"` + zeros + `","hash":"` + string(bytes.Repeat([]byte("zz"), 32)) + `"}`,
		"BothMetadata":    string(good[:len(good)-1]) + `,"metadata_base64":"AA=="}`,
		"BadBase64":       `{"consensus":1,"recorded_at":"2025-09-11T00:00:00Z","effective_at":"2025-09-11T00:00:00Z","prev_hash":"` + zeros + `","hash":"` + zeros + `","metadata_base64":"!!"}`,
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := decodeMetadata([]byte(b))
			assert.ErrorIs(t, err, errNotOurs)
		})
	}
}

const zeros = "0000000000000000000000000000000000000000000000000000000000000000"

// FuzzDecodeMetadata checks that decoding never panics, and that whatever
// it accepts encodes back to metadata that decodes to the same envelope.
func FuzzDecodeMetadata(f *testing.F) {
	f.Add(encodeMetadata(sampleEnvelope([]byte(`{"source":"manual"}`))))
	f.Add(encodeMetadata(sampleEnvelope([]byte{0, 0xff})))
	f.Add(encodeMetadata(sampleEnvelope(nil)))
	f.Add([]byte(`{"consensus":1}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeMetadata(b)
		if err != nil {
			return
		}
		again, err := decodeMetadata(encodeMetadata(e))
		if err != nil {
			t.Fatalf("re-encoded metadata does not decode: %v", err)
		}
		if !again.RecordedAt.Equal(e.RecordedAt) || !again.EffectiveAt.Equal(e.EffectiveAt) ||
			again.PrevHash != e.PrevHash || again.Hash != e.Hash || !bytes.Equal(again.Metadata, e.Metadata) || again.Chain != e.Chain {
			t.Fatalf("round trip changed the envelope: %+v became %+v", e, again)
		}
	})
}

// FuzzMetadataKeepsLedgerBytes checks that any ledger metadata comes back
// byte for byte, embedded or not.
func FuzzMetadataKeepsLedgerBytes(f *testing.F) {
	f.Add([]byte(`{"recorded_by":"demo","source":"demo:alibaba:1"}`))
	f.Add([]byte(" {}"))
	f.Add([]byte("\"\xff\""))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, meta []byte) {
		out, err := decodeMetadata(encodeMetadata(sampleEnvelope(meta)))
		if err != nil {
			t.Fatalf("metadata %q: %v", meta, err)
		}
		if len(meta) == 0 {
			meta = nil
		}
		if !bytes.Equal(out.Metadata, meta) || (meta == nil) != (out.Metadata == nil) {
			t.Fatalf("metadata %q came back as %q", meta, out.Metadata)
		}
	})
}
