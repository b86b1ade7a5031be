package main

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/consensus-ledger/consensus/checkpoint"
	"github.com/consensus-ledger/consensus/outfile"
)

type checkpointCmd struct {
	storeFlag
	key, out string
}

func (c *checkpointCmd) usage() (string, string) {
	return "checkpoint --key KEY -o FILE",
		"Writes a signed checkpoint of every stream's event count and head hash to FILE (never overwriting), for 'verify --against FILE --pubkey KEY.pub' later."
}

func (c *checkpointCmd) define(fs *pflag.FlagSet) {
	c.storeFlag.define(fs)
	fs.StringVar(&c.key, "key", "", "the private key `FILE` written by consensus keygen (mode 600)")
	fs.StringVarP(&c.out, "out", "o", "", "the checkpoint `FILE` to write; it must not exist")
}

func (c *checkpointCmd) run(ctx context.Context, a *app, args []string) error {
	if len(args) > 0 {
		return usagef("unexpected argument %q", args[0])
	}
	if err := required(map[string]string{"key": c.key, "out": c.out}); err != nil {
		return err
	}
	key, err := checkpoint.LoadPrivateKey(c.key)
	if err != nil {
		return err
	}
	// A checkpoint is never replaced, and never written over the store or
	// the key: checked before the store is read, and again as it is placed.
	opts := outputOptions(a, &c.storeFlag, "-o", false, outfile.Protected{Path: c.key, What: "the signing key"})
	opts.NoForce = true
	if err := outfile.Check(c.out, opts); err != nil {
		return err
	}
	l, closeStore, err := c.open(a, true)
	if err != nil {
		return err
	}
	defer closeStore()
	heads, err := l.StreamHeads(ctx)
	if err != nil {
		return err
	}
	f, err := checkpoint.Build(heads, key)
	if err != nil {
		return err
	}
	b, err := f.Marshal()
	if err != nil {
		return err
	}
	if err := outfile.WriteBytes(c.out, opts, b); err != nil {
		return err
	}
	var events int64
	for _, s := range f.Streams {
		events += s.Events
	}
	_, err = fmt.Fprintf(a.stdout, "wrote %s: %d events in %d streams as of %s, root %s, signed by key %s\n",
		c.out, events, len(f.Streams), f.Time, f.Root, f.KeyFingerprint)
	return err
}
