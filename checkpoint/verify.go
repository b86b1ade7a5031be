package checkpoint

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Checked is a checkpoint whose format, root and signature were checked.
type Checked struct {
	Time        time.Time
	Streams     []Head
	Fingerprint string
	// Trusted is true when the signer's key was checked against a key the
	// caller trusts (Parse's trusted), not only against the key the
	// checkpoint carries.
	Trusted bool
}

// Head is one stream's chain end as a checkpoint lists it: its last
// event's version (events - 1) and hash.
type Head struct {
	Stream  string
	Version int64
	Hash    [32]byte
}

// IsCheckpoint reports whether a file's content claims to be a checkpoint
// (of any version) rather than the heads a verify --json printed.
func IsCheckpoint(data []byte) bool {
	var probe struct {
		Format *string `json:"format"`
	}
	return json.Unmarshal(data, &probe) == nil && probe.Format != nil
}

// Parse checks a checkpoint file's content completely: its format, every
// field, the root over its streams, its key fingerprint and its signature.
// With trusted, the signer must be that key (trustedName names its file);
// without, the signature is checked with the key the checkpoint carries,
// which proves it was not altered but not who signed it. name is the
// file's name for messages. Each error is one sentence naming the file.
func Parse(name string, data []byte, trusted ed25519.PublicKey, trustedName string) (Checked, error) {
	fail := func(format string, args ...any) (Checked, error) {
		return Checked{}, fmt.Errorf("checkpoint %s "+format, append([]any{name}, args...)...)
	}
	var f File
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return fail("is not a checkpoint written by 'consensus checkpoint': %v", err)
	}
	if dec.More() {
		return fail("has data after its JSON object")
	}
	if f.Format != Format {
		return fail("has format %q; this program reads %q", f.Format, Format)
	}
	if len(f.Streams) == 0 {
		return fail("lists no stream, so it proves nothing")
	}
	at, err := time.Parse(time.RFC3339Nano, f.Time)
	if err != nil {
		return fail("has time %q, which is not an RFC 3339 time", f.Time)
	}
	out := Checked{Time: at, Fingerprint: f.KeyFingerprint, Streams: make([]Head, len(f.Streams))}
	for i, s := range f.Streams {
		h := Head{Stream: s.Stream, Version: s.Events - 1}
		b, err := hex.DecodeString(s.Head)
		switch {
		case s.Stream == "":
			return fail("lists a stream without a name (entry %d)", i+1)
		case i > 0 && s.Stream <= f.Streams[i-1].Stream:
			return fail("lists %s after %s: streams must be sorted by name, each once", s.Stream, f.Streams[i-1].Stream)
		case s.Events < 1:
			return fail("lists %s with %d events; a listed stream has at least one", s.Stream, s.Events)
		case err != nil || len(b) != len(h.Hash) || hex.EncodeToString(b) != s.Head:
			return fail("lists %s with head %q, which is not 64 lower-case hexadecimal digits", s.Stream, s.Head)
		}
		copy(h.Hash[:], b)
		out.Streams[i] = h
	}
	if root := Root(f.Streams); root != f.Root {
		return fail("has root %s, but its streams hash to %s: its list of streams was altered", f.Root, root)
	}
	der, err := base64.StdEncoding.DecodeString(f.PublicKey)
	if err != nil {
		return fail("has a public_key that is not base64: %v", err)
	}
	pub, err := parseSPKI("checkpoint "+name+"'s public_key", der)
	if err != nil {
		return Checked{}, err
	}
	if fp, err := Fingerprint(pub); err != nil || fp != f.KeyFingerprint {
		return fail("names key %s but carries key %s", f.KeyFingerprint, fp)
	}
	sig, err := base64.StdEncoding.DecodeString(f.Signature)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return fail("has a signature that is not %d bytes of base64", ed25519.SignatureSize)
	}
	if trusted != nil {
		want, err := Fingerprint(trusted)
		if err != nil {
			return Checked{}, err
		}
		if want != f.KeyFingerprint {
			return fail("was signed by key %s, not by the key in %s (%s)", f.KeyFingerprint, trustedName, want)
		}
		out.Trusted = true
	}
	if !ed25519.Verify(pub, Message(f.Format, f.Time, f.Root), sig) {
		return fail("has a signature that does not verify with key %s: the checkpoint was altered after it was signed", f.KeyFingerprint)
	}
	return out, nil
}
