// Package checkpoint makes and checks signed checkpoints of the ledger
// (CONTRACT section 6): a statement, signed with an Ed25519 key, of every
// stream's event count and head hash as of one time. Kept where the
// ledger's writers cannot change it, a checkpoint proves later that each
// stream still begins with exactly those events, and that no stream then
// present has been deleted, truncated, rewritten, hidden or forged.
//
// The format is versioned and defined byte for byte in docs/events.md, so
// that it can be checked with openssl and a few lines of shell, without
// this program:
//
//	{"format": "consensus-checkpoint/1", "time": "<RFC 3339>", "streams": [{"stream", "events", "head"}...],
//	 "root": "<hex>", "key_fingerprint": "SHA256:<hex>", "public_key": "<base64 DER>", "signature": "<base64>"}
//
// root is the SHA-256 of one line "stream TAB events TAB head LF" per
// stream, sorted by stream name; the signature is Ed25519 over the line
// "consensus-checkpoint/1 SP time SP root LF" (Message).
package checkpoint

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/consensus-ledger/consensus/eventstore"
)

// Format names this version of the checkpoint format.
const Format = "consensus-checkpoint/1"

// Stream is one stream as the checkpoint saw it.
type Stream struct {
	Stream string `json:"stream"`
	Events int64  `json:"events"`
	Head   string `json:"head"` // the hash of its last event, 64 hex digits
}

// File is a checkpoint as written: the fields in this order, indented.
type File struct {
	Format string `json:"format"`
	// Time is the latest recorded time of any event the checkpoint covers
	// (RFC 3339, UTC): the ledger as of that time. Every stream holding an
	// event recorded at or before it is listed.
	Time           string   `json:"time"`
	Streams        []Stream `json:"streams"`
	Root           string   `json:"root"`
	KeyFingerprint string   `json:"key_fingerprint"`
	// PublicKey is the signer's public key, DER SubjectPublicKeyInfo in
	// base64 (the body of its PEM file), so the signature can be checked
	// without the key file; verify --pubkey checks it is the expected key.
	PublicKey string `json:"public_key"`
	Signature string `json:"signature"`
}

// Build signs a checkpoint of the given streams (each with at least one
// event) with key. It reads nothing: the caller lists the streams, from
// the store's record of its stream heads, which is what makes a checkpoint
// fast however many events the ledger holds.
func Build(infos []eventstore.StreamInfo, key ed25519.PrivateKey) (File, error) {
	var latest time.Time
	streams := make([]Stream, 0, len(infos))
	for _, info := range infos {
		if info.Events == 0 {
			continue
		}
		streams = append(streams, Stream{Stream: info.Stream, Events: info.Events, Head: hex.EncodeToString(info.LastHash[:])})
		if info.LastRecordedAt.After(latest) {
			latest = info.LastRecordedAt
		}
	}
	if len(streams) == 0 {
		return File{}, fmt.Errorf("the ledger has no events: there is nothing to checkpoint")
	}
	sort.Slice(streams, func(i, j int) bool { return streams[i].Stream < streams[j].Stream })
	pub, ok := key.Public().(ed25519.PublicKey)
	if !ok {
		return File{}, fmt.Errorf("the key is not an Ed25519 key")
	}
	der, fingerprint, err := publicKeyID(pub)
	if err != nil {
		return File{}, err
	}
	f := File{Format: Format, Time: latest.UTC().Format(time.RFC3339Nano), Streams: streams,
		Root: Root(streams), KeyFingerprint: fingerprint, PublicKey: base64.StdEncoding.EncodeToString(der)}
	f.Signature = base64.StdEncoding.EncodeToString(ed25519.Sign(key, Message(f.Format, f.Time, f.Root)))
	return f, nil
}

// Root is the hex SHA-256 over one line "stream TAB events TAB head LF" per
// stream, in the order given (Build and Parse keep them sorted by name).
func Root(streams []Stream) string {
	h := sha256.New()
	var line []byte
	for _, s := range streams {
		line = append(line[:0], s.Stream...)
		line = append(line, '\t')
		line = strconv.AppendInt(line, s.Events, 10)
		line = append(line, '\t')
		line = append(line, s.Head...)
		line = append(line, '\n')
		h.Write(line)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Message is the exact byte string a checkpoint's signature covers: its
// format, time and root, separated by single spaces, ending in a newline.
func Message(format, time, root string) []byte {
	return []byte(format + " " + time + " " + root + "\n")
}

// Marshal is the checkpoint as written to its file.
func (f File) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}
