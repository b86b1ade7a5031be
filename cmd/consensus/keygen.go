package main

import (
	"context"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/consensus-ledger/consensus/checkpoint"
	"github.com/consensus-ledger/consensus/outfile"
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
	// A key is never replaced. Both names are checked before either is
	// written, so a refusal leaves nothing behind; each is checked again,
	// atomically, as it is placed.
	private := outfile.Options{Flag: "-o", NoForce: true, Perm: 0o600}
	public := outfile.Options{Flag: "-o", NoForce: true}
	for _, p := range []struct {
		path string
		opts outfile.Options
	}{{c.out, private}, {pubPath, public}} {
		if err := outfile.Check(p.path, p.opts); err != nil {
			return err
		}
	}
	privateKey, publicKey, err := checkpoint.GenerateKey()
	if err != nil {
		return err
	}
	if err := outfile.WriteBytes(c.out, private, privateKey); err != nil {
		return err
	}
	if err := outfile.WriteBytes(pubPath, public, publicKey); err != nil {
		return err
	}
	pub, err := checkpoint.ParsePublicKey(pubPath, publicKey)
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
