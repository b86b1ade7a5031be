package checkpoint_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/checkpoint"
	"github.com/consensus-ledger/consensus/eventstore"
)

func newKey(t testing.TB) (ed25519.PrivateKey, ed25519.PublicKey) {
	t.Helper()
	privPEM, pubPEM, err := checkpoint.GenerateKey()
	require.NoError(t, err)
	priv, err := checkpoint.ParsePrivateKey("KEY", privPEM)
	require.NoError(t, err)
	pub, err := checkpoint.ParsePublicKey("KEY.pub", pubPEM)
	require.NoError(t, err)
	return priv, pub
}

func infos() []eventstore.StreamInfo {
	at := time.Date(2026, 11, 24, 12, 0, 0, 123456000, time.UTC)
	return []eventstore.StreamInfo{
		{Stream: "instrument-BABA", Events: 57, Version: 56, LastRecordedAt: at, LastHash: [32]byte{1, 2}},
		{Stream: "instrument-9988.HK", Events: 11, Version: 10, LastRecordedAt: at.Add(-time.Hour), LastHash: [32]byte{3}},
		{Stream: "instrument-EMPTY", Events: 0, Version: -1},
	}
}

func TestBuildAndParse(t *testing.T) {
	priv, pub := newKey(t)
	f, err := checkpoint.Build(infos(), priv)
	require.NoError(t, err)
	assert.Equal(t, "2026-11-24T12:00:00.123456Z", f.Time, "the latest recorded time covered")
	require.Len(t, f.Streams, 2, "empty streams are left out")
	assert.Equal(t, "instrument-9988.HK", f.Streams[0].Stream, "sorted by name")
	b, err := f.Marshal()
	require.NoError(t, err)

	got, err := checkpoint.Parse("cp.json", b, pub, "KEY.pub")
	require.NoError(t, err)
	assert.True(t, got.Trusted)
	assert.Equal(t, checkpoint.Head{Stream: "instrument-BABA", Version: 56, Hash: [32]byte{1, 2}}, got.Streams[1])
	got, err = checkpoint.Parse("cp.json", b, nil, "")
	require.NoError(t, err)
	assert.False(t, got.Trusted)
}

// TestRootGolden pins the root's definition: SHA-256 over sorted lines
// "stream TAB events TAB head LF", as `printf ... | sha256sum` computes it.
func TestRootGolden(t *testing.T) {
	streams := []checkpoint.Stream{{Stream: "a", Events: 1, Head: "00"}, {Stream: "b", Events: 22, Head: "ff"}}
	// printf 'a\t1\t00\nb\t22\tff\n' | sha256sum
	assert.Equal(t, "ebfffb224b69ef0df0916d6bc2231efb2f6fd2e8e30cc32a1eece61d4137a4dd", checkpoint.Root(streams))
}

func TestParseRefuses(t *testing.T) {
	priv, pub := newKey(t)
	other, otherPub := newKey(t)
	good, err := checkpoint.Build(infos(), priv)
	require.NoError(t, err)
	byOther, err := checkpoint.Build(infos(), other)
	require.NoError(t, err)
	otherFP, err := checkpoint.Fingerprint(otherPub)
	require.NoError(t, err)
	mine, err := checkpoint.Fingerprint(pub)
	require.NoError(t, err)

	flipped := good
	sig, _ := base64.StdEncoding.DecodeString(good.Signature)
	sig[10] ^= 1
	flipped.Signature = base64.StdEncoding.EncodeToString(sig)
	dropped := good
	dropped.Streams = good.Streams[1:]
	rerooted := dropped
	rerooted.Root = checkpoint.Root(dropped.Streams)
	empty := good
	empty.Streams = nil

	for _, tc := range []struct {
		name string
		f    checkpoint.File
		want string
	}{
		{"flipped signature byte", flipped, "checkpoint cp.json has a signature that does not verify with key " + mine + ": the checkpoint was altered after it was signed"},
		{"signed by another key", byOther, "checkpoint cp.json was signed by key " + otherFP + ", not by the key in KEY.pub (" + mine + ")"},
		{"stream dropped", dropped, "its list of streams was altered"},
		{"stream dropped, root recomputed", rerooted, "checkpoint cp.json has a signature that does not verify"},
		{"no stream", empty, "checkpoint cp.json lists no stream, so it proves nothing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, err := tc.f.Marshal()
			require.NoError(t, err)
			_, err = checkpoint.Parse("cp.json", b, pub, "KEY.pub")
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	for _, raw := range []string{`{}`, `null`, `{"format":"consensus-checkpoint/2"}`, `[]`} {
		_, err := checkpoint.Parse("cp.json", []byte(raw), pub, "KEY.pub")
		assert.Error(t, err, raw)
	}
}

func TestLoadPrivateKeyRefusesSharedFile(t *testing.T) {
	privPEM, _, err := checkpoint.GenerateKey()
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "KEY")
	require.NoError(t, os.WriteFile(path, privPEM, 0o644))
	require.NoError(t, os.Chmod(path, 0o644))
	_, err = checkpoint.LoadPrivateKey(path)
	require.Error(t, err)
	assert.Equal(t, "key file "+path+" is readable by group or others (mode 0644); run chmod 600 "+path, err.Error())
	require.NoError(t, os.Chmod(path, 0o600))
	_, err = checkpoint.LoadPrivateKey(path)
	assert.NoError(t, err)
}

// FuzzParse checks that Parse never panics, and that whatever it accepts
// re-parses to the same streams.
func FuzzParse(f *testing.F) {
	priv, _ := newKey(f)
	good, err := checkpoint.Build(infos(), priv)
	require.NoError(f, err)
	b, err := good.Marshal()
	require.NoError(f, err)
	f.Add(b)
	f.Add([]byte(`{"format":"consensus-checkpoint/1","streams":[]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := checkpoint.Parse("fuzz", data, nil, "")
		if err != nil {
			return
		}
		var f checkpoint.File
		if json.Unmarshal(data, &f) != nil || len(got.Streams) != len(f.Streams) || len(got.Streams) == 0 {
			t.Fatalf("accepted %q as %+v", data, got)
		}
	})
}

// FuzzParseKeys checks that reading key files never panics on any bytes
// and accepts only keys that then sign and verify.
func FuzzParseKeys(f *testing.F) {
	privPEM, pubPEM, err := checkpoint.GenerateKey()
	require.NoError(f, err)
	f.Add(privPEM)
	f.Add(pubPEM)
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if priv, err := checkpoint.ParsePrivateKey("fuzz", b); err == nil {
			pub := priv.Public().(ed25519.PublicKey)
			if !ed25519.Verify(pub, []byte("m"), ed25519.Sign(priv, []byte("m"))) {
				t.Fatal("an accepted private key does not sign")
			}
		}
		if pub, err := checkpoint.ParsePublicKey("fuzz", b); err == nil && len(pub) != ed25519.PublicKeySize {
			t.Fatalf("accepted a %d-byte public key", len(pub))
		}
	})
}
