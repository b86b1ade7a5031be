package esdb

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/consensus-ledger/consensus/eventstore"
)

// The metadata layout below is written under "consensus", so that a reader
// can tell the ledger's events from others. Its number is the record's
// chain version (eventstore.ChainV1 or ChainV2): the layout is the same,
// and a record hashed with version 1 keeps exactly the metadata it was
// written with. A program that knows only version 1 refuses a version-2
// record rather than finding its hash wrong.

// envelope is what the store keeps in an event's EventStoreDB metadata
// besides the ledger's own metadata: the fields of eventstore.Record that
// the server has no place for.
type envelope struct {
	RecordedAt  time.Time
	EffectiveAt time.Time
	PrevHash    [32]byte
	Hash        [32]byte
	// Metadata is the ledger's metadata, byte for byte; nil when it has
	// none.
	Metadata []byte
	// Chain is the record's chain version, written as "consensus".
	Chain int
}

// encodeMetadata writes the envelope as one JSON object:
//
//	{"consensus":2,"recorded_at":"…","effective_at":"…","prev_hash":"<hex>","hash":"<hex>","metadata":{…}}
//
// Times are RFC 3339 in UTC with as many fractional digits as needed, the
// form they are hashed in. The ledger's metadata is embedded verbatim under
// "metadata" when it is JSON that decodes back to the same bytes (valid
// UTF-8, no surrounding white space), so the server's web UI and
// projections read it as JSON; any other bytes go under "metadata_base64";
// none, neither key. The object is written by hand because encoding/json
// would re-format (compact, HTML-escape) the embedded bytes.
func encodeMetadata(e envelope) []byte {
	var b bytes.Buffer
	b.Grow(200 + len(e.Metadata)*4/3)
	fmt.Fprintf(&b, `{"consensus":%d,"recorded_at":%q,"effective_at":%q,"prev_hash":"%x","hash":"%x"`,
		e.Chain, e.RecordedAt.UTC().Format(time.RFC3339Nano), e.EffectiveAt.UTC().Format(time.RFC3339Nano),
		e.PrevHash[:], e.Hash[:])
	switch {
	case len(e.Metadata) == 0:
	case embeddable(e.Metadata):
		b.WriteString(`,"metadata":`)
		b.Write(e.Metadata)
	default:
		b.WriteString(`,"metadata_base64":"`)
		b.WriteString(base64.StdEncoding.EncodeToString(e.Metadata))
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.Bytes()
}

// embeddable reports whether b can be written into a JSON document as is
// and read back unchanged.
func embeddable(b []byte) bool {
	if len(b) == 0 || isSpace(b[0]) || isSpace(b[len(b)-1]) {
		return false
	}
	return utf8.Valid(b) && json.Valid(b)
}

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// isJSON reports whether event data is a JSON document, to label it
// application/json for the server.
func isJSON(b []byte) bool { return utf8.Valid(b) && json.Valid(b) }

// errNotOurs is the cause of every metadata that was not written by this
// store.
var errNotOurs = errors.New("not the ledger's metadata")

// decodeMetadata reads what encodeMetadata wrote. It never panics on any
// input and refuses anything incomplete or malformed.
func decodeMetadata(b []byte) (envelope, error) {
	var w struct {
		Consensus      *int            `json:"consensus"`
		RecordedAt     string          `json:"recorded_at"`
		EffectiveAt    string          `json:"effective_at"`
		PrevHash       string          `json:"prev_hash"`
		Hash           string          `json:"hash"`
		Metadata       json.RawMessage `json:"metadata"`
		MetadataBase64 *string         `json:"metadata_base64"`
	}
	var e envelope
	if err := json.Unmarshal(b, &w); err != nil {
		return e, fmt.Errorf("%w: %v", errNotOurs, err)
	}
	if w.Consensus == nil {
		return e, fmt.Errorf("%w: no \"consensus\" format field", errNotOurs)
	}
	if !eventstore.KnownChain(*w.Consensus) {
		return e, fmt.Errorf("%w: format %d, this version reads formats %d and %d", errNotOurs, *w.Consensus, eventstore.ChainV1, eventstore.ChainV2)
	}
	e.Chain = *w.Consensus
	var err error
	if e.RecordedAt, err = parseTime("recorded_at", w.RecordedAt); err != nil {
		return e, err
	}
	if e.EffectiveAt, err = parseTime("effective_at", w.EffectiveAt); err != nil {
		return e, err
	}
	if e.PrevHash, err = parseHash("prev_hash", w.PrevHash); err != nil {
		return e, err
	}
	if e.Hash, err = parseHash("hash", w.Hash); err != nil {
		return e, err
	}
	switch {
	case w.Metadata != nil && w.MetadataBase64 != nil:
		return e, fmt.Errorf("%w: both metadata and metadata_base64", errNotOurs)
	case w.Metadata != nil:
		e.Metadata = []byte(w.Metadata)
	case w.MetadataBase64 != nil:
		if e.Metadata, err = base64.StdEncoding.DecodeString(*w.MetadataBase64); err != nil {
			return e, fmt.Errorf("%w: metadata_base64: %v", errNotOurs, err)
		}
		if len(e.Metadata) == 0 {
			e.Metadata = nil
		}
	}
	return e, nil
}

func parseTime(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, fmt.Errorf("%w: no %s", errNotOurs, field)
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s %q is not an RFC 3339 time", errNotOurs, field, s)
	}
	return t.UTC(), nil
}

func parseHash(field, s string) ([32]byte, error) {
	var h [32]byte
	if len(s) != 2*len(h) {
		return h, fmt.Errorf("%w: %s is %d characters, not %d hexadecimal digits", errNotOurs, field, len(s), 2*len(h))
	}
	if _, err := hex.Decode(h[:], []byte(s)); err != nil {
		return h, fmt.Errorf("%w: %s: %v", errNotOurs, field, err)
	}
	return h, nil
}
