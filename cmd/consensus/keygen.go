package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/pflag"

	"github.com/consensus-ledger/consensus/checkpoint"
	"github.com/consensus-ledger/consensus/internal/newfile"
)

type keygenCmd struct{ out string }

func (c *keygenCmd) usage() (string, string) {
	return "keygen -o KEY", "Writes a new Ed25519 signing key for checkpoints to KEY (mode 600) and its public key to KEY.pub; never overwrites."
}

func (c *keygenCmd) define(fs *pflag.FlagSet) {
	fs.StringVarP(&c.out, "out", "o", "", "the private key `FILE` to write; the public key goes to FILE.pub")
}

func (c *keygenCmd) run(ctx context.Context, a *app, args []string) error {
	if len(args) > 0 {
		return usagef("unexpected argument %q", args[0])
	}
	if err := required(map[string]string{"out": c.out}); err != nil {
		return err
	}
	pubPath := c.out + ".pub"
	// Both names are checked before either is written, so a refusal
	// leaves nothing behind; newfile.Write checks again, atomically.
	for _, p := range []string{c.out, pubPath} {
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("%s already exists; it was left unchanged: a signing key is never overwritten", p)
		}
	}
	private, public, err := checkpoint.GenerateKey()
	if err != nil {
		return err
	}
	if err := newfile.Write(c.out, private, 0o600); err != nil {
		return keygenError(err)
	}
	if err := newfile.Write(pubPath, public, 0o644); err != nil {
		return keygenError(err)
	}
	pub, err := checkpoint.ParsePublicKey(pubPath, public)
	if err != nil {
		return err
	}
	fp, err := checkpoint.Fingerprint(pub)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(a.stdout, "wrote %s (private, mode 600) and %s; key %s\n", c.out, pubPath, fp)
	return err
}

func keygenError(err error) error {
	if errors.Is(err, newfile.ErrExists) {
		return fmt.Errorf("%w: a signing key is never overwritten", err)
	}
	return fmt.Errorf("write the key: %w", err)
}
