package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/consensus-ledger/consensus/checkpoint"
	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/ledger"
)

type verifyCmd struct {
	storeFlag
	json            bool
	against, pubkey string
}

// headJSON is one chain end as verify --json prints it and --against reads it.
type headJSON struct {
	Stream  string `json:"stream"`
	Version int64  `json:"version"`
	Hash    string `json:"hash"`
}

// verifyJSON is what verify --json prints. Time is the latest recorded
// time of the events checked (the heads are the ledger as of then); heads
// files printed before it was added have none.
type verifyJSON struct {
	Events  int64      `json:"events"`
	Streams int        `json:"streams"`
	ChainV1 int64      `json:"chain_v1"`
	ChainV2 int64      `json:"chain_v2"`
	Time    string     `json:"time,omitempty"`
	Heads   []headJSON `json:"heads"`
}

func (c *verifyCmd) usage() (string, string) {
	return "verify [SYMBOL] [--json] [--against FILE [--pubkey KEY.pub]]",
		"Recomputes every hash chain and reports the first event that does not match; with --against, also checks the ledger against a signed checkpoint or saved heads."
}

func (c *verifyCmd) define(fs *pflag.FlagSet) {
	c.storeFlag.define(fs)
	fs.BoolVar(&c.json, "json", false, "print the counts and every chain's last hash as JSON, to keep outside the ledger")
	fs.StringVar(&c.against, "against", "", "a checkpoint (consensus checkpoint) or a file written by an earlier 'verify --json': check every stream it lists still begins with those events, and that no stream it omits predates it")
	fs.StringVar(&c.pubkey, "pubkey", "", "the public key (KEY.pub from consensus keygen) the --against checkpoint must be signed with")
}

// anchorFile is an --against file, read and checked before the ledger is
// opened.
type anchorFile struct {
	anchor ledger.Anchor
	// signer describes a checkpoint's key for the report; empty for an
	// unsigned heads file.
	signer string
}

// readAnchor reads an --against file: a signed checkpoint, checked
// completely (pubkey, when given, names the key it must be signed with),
// or the heads an earlier verify --json printed. A file that lists no
// stream is refused: it would prove nothing while looking like a check.
func readAnchor(path, pubkey string) (anchorFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return anchorFile{}, fmt.Errorf("read --against file: %w", err)
	}
	if checkpoint.IsCheckpoint(data) {
		var trusted ed25519.PublicKey
		if pubkey != "" {
			if trusted, err = checkpoint.LoadPublicKey(pubkey); err != nil {
				return anchorFile{}, err
			}
		}
		cp, err := checkpoint.Parse(path, data, trusted, pubkey)
		if err != nil {
			return anchorFile{}, err
		}
		out := anchorFile{anchor: ledger.Anchor{Time: cp.Time, Name: "checkpoint " + path}}
		for _, h := range cp.Streams {
			out.anchor.Heads = append(out.anchor.Heads, ledger.Head(h))
		}
		out.signer = "signed by key " + cp.Fingerprint + ", the key in " + pubkey
		if !cp.Trusted {
			out.signer = "signed by key " + cp.Fingerprint + ", which was not checked against a key you trust: give --pubkey KEY.pub"
		}
		return out, nil
	}
	if pubkey != "" {
		return anchorFile{}, &domain.ValidationError{Field: "pubkey", Value: pubkey,
			Reason: fmt.Sprintf("applies to a signed checkpoint, and %s is an unsigned heads file", path)}
	}
	heads, at, err := readHeads(path, data)
	if err != nil {
		return anchorFile{}, err
	}
	return anchorFile{anchor: ledger.Anchor{Heads: heads, Time: at, Name: "the heads file " + path}}, nil
}

// readHeads reads the chain ends saved by an earlier verify --json.
func readHeads(path string, data []byte) ([]ledger.Head, time.Time, error) {
	var saved verifyJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&saved); err != nil {
		return nil, time.Time{}, &domain.ValidationError{Field: "against", Value: path, Reason: "is neither a checkpoint nor the output of 'consensus verify --json': " + err.Error()}
	}
	if len(saved.Heads) == 0 {
		return nil, time.Time{}, &domain.ValidationError{Field: "against", Value: path,
			Reason: "lists no stream, so it proves nothing: give a checkpoint or the output of 'consensus verify --json' on a ledger with events"}
	}
	var at time.Time
	if saved.Time != "" {
		var err error
		if at, err = time.Parse(time.RFC3339Nano, saved.Time); err != nil {
			return nil, time.Time{}, &domain.ValidationError{Field: "against", Value: path, Reason: fmt.Sprintf("has time %q, which is not an RFC 3339 time", saved.Time)}
		}
	}
	heads := make([]ledger.Head, len(saved.Heads))
	seen := make(map[string]bool, len(saved.Heads))
	for i, h := range saved.Heads {
		b, err := hex.DecodeString(h.Hash)
		if err != nil || len(b) != 32 || h.Stream == "" || h.Version < 0 || seen[h.Stream] {
			return nil, time.Time{}, &domain.ValidationError{Field: "against", Value: path, Reason: fmt.Sprintf("has a malformed or repeated head for stream %q", h.Stream)}
		}
		seen[h.Stream] = true
		heads[i] = ledger.Head{Stream: h.Stream, Version: h.Version}
		copy(heads[i].Hash[:], b)
	}
	return heads, at, nil
}

func (c *verifyCmd) run(ctx context.Context, a *app, args []string) error {
	var sym domain.Symbol
	if len(args) > 0 {
		var err error
		if sym, err = oneSymbol(args); err != nil {
			return err
		}
	}
	if c.pubkey != "" && c.against == "" {
		return usagef("--pubkey needs --against FILE, the checkpoint to check with it")
	}
	var anchor *anchorFile
	if c.against != "" {
		af, err := readAnchor(c.against, c.pubkey)
		if err != nil {
			return err
		}
		anchor = &af
	}
	l, closeStore, err := c.open(a, true)
	if err != nil {
		return err
	}
	defer closeStore()
	report, err := l.Verify(ctx, sym)
	var against ledger.AgainstReport
	if err == nil && anchor != nil {
		against, err = l.CheckAgainst(ctx, anchor.anchor, sym)
	}
	var chainErr *eventstore.ChainError
	if errors.As(err, &chainErr) || errors.Is(err, eventstore.ErrIDIndex) {
		return fmt.Errorf("tampering detected after %d good events: %w", report.Events, err)
	}
	if err != nil {
		return err
	}
	if c.json {
		out := verifyJSON{Events: report.Events, Streams: report.Streams, Heads: []headJSON{},
			ChainV1: report.ByChain[eventstore.ChainV1], ChainV2: report.ByChain[eventstore.ChainV2]}
		if !report.Latest.IsZero() {
			out.Time = domain.FormatTime(report.Latest)
		}
		for _, h := range report.Heads {
			out.Heads = append(out.Heads, headJSON{h.Stream, h.Version, hex.EncodeToString(h.Hash[:])})
		}
		return writeJSON(a.stdout, out)
	}
	if _, err := fmt.Fprintf(a.stdout, "ok: %d events in %d streams\nchain version 1: %d events, chain version 2: %d events\n", report.Events, report.Streams,
		report.ByChain[eventstore.ChainV1], report.ByChain[eventstore.ChainV2]); err != nil {
		return err
	}
	if anchor == nil {
		return nil
	}
	line := fmt.Sprintf("ok against %s: %d of its streams checked, as of %s; the ledger has %d streams", anchor.anchor.Name,
		against.Matched, domain.FormatTime(against.Time), against.Streams)
	if later := against.Streams - against.Matched; later > 0 {
		line += fmt.Sprintf(", %d of them begun after that time", later)
	}
	if anchor.signer != "" {
		line += "; " + anchor.signer
	}
	_, err = fmt.Fprintln(a.stdout, line)
	return err
}
