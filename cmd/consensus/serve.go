package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/pflag"

	"github.com/consensus-ledger/consensus/checkpoint"
	"github.com/consensus-ledger/consensus/ledger"
	"github.com/consensus-ledger/consensus/serve"
)

type serveCmd struct {
	storeFlag
	addr, tokens string
	poll         time.Duration
	verifyEvery  time.Duration
	maxCached    int
	allowHosts   []string
	create       bool
	// Checkpoints: a directory, the signing key, the interval.
	checkpointDir, checkpointKey string
	checkpointEvery              time.Duration
	bounds                       serveBounds
}

// serveBounds are the flags bounding what the server holds and runs at once
// (issue 10): the bytes of its answer cache, its expensive requests and its
// event streams.
type serveBounds struct {
	maxCacheBytes byteSize
	maxExpensive  int
	maxStreams    int
}

func (b *serveBounds) define(fs *pflag.FlagSet) {
	b.maxCacheBytes = serve.DefaultMaxCacheBytes
	fs.Var(&b.maxCacheBytes, "max-cache-bytes",
		"how many bytes of encoded answers stay cached between requests, all kinds together, the least recently used let go first "+
			"(such as 256MiB or 1GiB; 0: none)")
	fs.IntVar(&b.maxExpensive, "max-expensive", serve.DefaultMaxExpensive,
		"how many `REQUESTS` whose cost grows with the request (histories, charts, logs, lists of every instrument, imports) run at once; "+
			"more are answered 503 with Retry-After")
	fs.IntVar(&b.maxStreams, "max-streams", serve.DefaultMaxStreams,
		"how many event-stream `CLIENTS` are served at once, each holding a file descriptor: keep it well under ulimit -n; "+
			"more are answered 503")
}

// check refuses bounds that would leave the server unable to answer.
func (b *serveBounds) check() error {
	if b.maxExpensive < 1 {
		return usagef("--max-expensive must be at least 1; got %d", b.maxExpensive)
	}
	if b.maxStreams < 1 {
		return usagef("--max-streams must be at least 1; got %d", b.maxStreams)
	}
	return nil
}

// apply sets the bounds in a server's configuration.
func (b *serveBounds) apply(cfg *serve.Config) {
	cfg.MaxCacheBytes = int64(b.maxCacheBytes)
	if cfg.MaxCacheBytes == 0 {
		cfg.MaxCacheBytes = -1 // serve.Config's "none"; its zero means the default
	}
	cfg.MaxExpensive, cfg.MaxStreams = b.maxExpensive, b.maxStreams
}

func (c *serveCmd) usage() (string, string) {
	return "serve [--addr 127.0.0.1:8080] [--tokens FILE] [--create] [--allow-host NAME] [--checkpoint-dir DIR --checkpoint-key KEY [--checkpoint-every 1h]]",
		"Serves the HTTP API (/api/v1, described at /api/v1/openapi.json) and the web page, until interrupted. " +
			"Without --tokens it only reads, and listens on and answers for loopback alone. SIGHUP reloads the token file."
}

func (c *serveCmd) define(fs *pflag.FlagSet) {
	c.storeFlag.define(fs)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "HOST:PORT to listen on (port 0 picks a free one)")
	fs.StringVar(&c.tokens, "tokens", "", "a `FILE` of TOKEN ROLE NAME lines (role read or write); without it the server only reads")
	fs.DurationVar(&c.poll, "poll", serve.DefaultPollInterval, "how often to look for events written by other processes")
	fs.DurationVar(&c.verifyEvery, "verify-every", serve.DefaultVerifyEvery, "how often to verify the hash chains for /healthz, first at start (0: never)")
	fs.IntVar(&c.maxCached, "max-cached-events", ledger.DefaultMaxCachedEvents,
		"how many `EVENTS` of the instruments asked about stay loaded between requests, the least recently asked let go first (-1: no bound)")
	fs.StringArrayVar(&c.allowHosts, "allow-host", nil, "without --tokens, also answer requests for this Host `NAME` besides localhost and loopback addresses (repeatable)")
	fs.BoolVar(&c.create, "create", false, "with --tokens, create the store if it does not exist and serve a new empty ledger")
	fs.StringVar(&c.checkpointDir, "checkpoint-dir", "", "a `DIR` to write a signed checkpoint to at start and every --checkpoint-every, each a new file (ship it to write-once storage)")
	fs.StringVar(&c.checkpointKey, "checkpoint-key", "", "the private key `FILE` (consensus keygen) that signs the checkpoints")
	fs.DurationVar(&c.checkpointEvery, "checkpoint-every", serve.DefaultCheckpointEvery, "how often to write a checkpoint")
	c.bounds.define(fs)
}

func (c *serveCmd) run(ctx context.Context, a *app, args []string) error {
	if len(args) > 0 {
		return usagef("unexpected argument %q", args[0])
	}
	if c.poll <= 0 {
		return usagef("--poll must be positive, such as 250ms")
	}
	if c.maxCached == 0 || c.maxCached < -1 {
		return usagef("--max-cached-events must be positive, or -1 for no bound; got %d", c.maxCached)
	}
	if err := c.bounds.check(); err != nil {
		return err
	}
	if c.verifyEvery <= 0 {
		c.verifyEvery = -1 // serve.Config's "never"; its zero means the default
	}
	if (c.checkpointDir == "") != (c.checkpointKey == "") {
		return usagef("--checkpoint-dir and --checkpoint-key go together")
	}
	if c.checkpointEvery < time.Second {
		return usagef("--checkpoint-every must be at least 1s, such as 1h; got %s", c.checkpointEvery)
	}
	var key ed25519.PrivateKey
	if c.checkpointDir != "" {
		if st, err := os.Stat(c.checkpointDir); err != nil || !st.IsDir() {
			return fmt.Errorf("--checkpoint-dir %s is not a directory", c.checkpointDir)
		}
		var err error
		if key, err = checkpoint.LoadPrivateKey(c.checkpointKey); err != nil {
			return err
		}
	}
	// SIGHUP reloads the token file; caught from the start, it never stops
	// the server.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	logger := slog.New(slog.NewTextHandler(a.stderr, nil))
	var tokens *serve.TokenFile
	if c.tokens != "" {
		var err error
		if tokens, err = serve.OpenTokenFile(c.tokens, logger); err != nil {
			return fmt.Errorf("--tokens %s: %w", c.tokens, err)
		}
	}
	if err := serve.CheckAddress(c.addr, tokens != nil); err != nil {
		return &usageError{msg: err.Error()}
	}
	if err := serve.CheckAllowedHosts(c.allowHosts, tokens != nil); err != nil {
		return &usageError{msg: err.Error()}
	}
	readOnly := tokens == nil
	if err := c.checkExists(a, readOnly); err != nil {
		return err
	}
	// The ledger owns its cache of instruments; --max-cached-events bounds it.
	l, store, closeStore, err := c.openLedger(a, readOnly, ledger.WithCache(ledger.CacheBounds{MaxEvents: c.maxCached}))
	if err != nil {
		return err
	}
	defer closeStore()
	cfg := serve.Config{Ledger: l, Store: store, TokenFile: tokens, Reload: hup, AllowedHosts: c.allowHosts, Logger: logger,
		PollInterval: c.poll, VerifyEvery: c.verifyEvery,
		CheckpointDir: c.checkpointDir, CheckpointKey: key, CheckpointEvery: c.checkpointEvery}
	c.bounds.apply(&cfg)
	srv, err := serve.New(cfg)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", c.addr, unwrapOp(err))
	}
	mode := "read-only: no token file"
	if tokens != nil {
		mode = fmt.Sprintf("%d tokens from %s", tokens.Tokens().Len(), c.tokens)
	}
	fmt.Fprintf(a.stdout, "consensus serve: listening on http://%s (%s); stop with Ctrl-C\n", ln.Addr(), mode)
	if err := srv.Serve(ctx, ln); err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, "consensus serve: stopped")
	return nil
}

// checkExists refuses to serve an embedded store that does not exist,
// unless --create asks for a new one: a mistyped path would otherwise
// serve, and take writes into, an empty ledger beside the real one.
func (c *serveCmd) checkExists(a *app, readOnly bool) error {
	if c.create && readOnly {
		return usagef("--create needs --tokens FILE: a server without tokens only reads, so a new ledger would stay empty")
	}
	if c.create || c.exists(a) {
		return nil
	}
	path, _ := filePath(c.resolve(a))
	if readOnly {
		return errNoLedger(path)
	}
	return fmt.Errorf("store %s does not exist; pass --create to serve a new empty ledger", path)
}

// unwrapOp drops the *net.OpError's own wording, leaving the reason
// ("address already in use").
func unwrapOp(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}
