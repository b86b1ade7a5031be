package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/spf13/pflag"

	"github.com/consensus-ledger/consensus/serve"
)

type serveCmd struct {
	storeFlag
	addr, tokens string
	poll         time.Duration
	verifyEvery  time.Duration
	maxCached    int
	bounds       serveBounds
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
	return "serve [--addr 127.0.0.1:8080] [--tokens FILE]",
		"Serves the HTTP API (/api/v1, described at /api/v1/openapi.json) and the web page, until interrupted. " +
			"Without --tokens it only reads, and listens on loopback alone."
}

func (c *serveCmd) define(fs *pflag.FlagSet) {
	c.storeFlag.define(fs)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "HOST:PORT to listen on (port 0 picks a free one)")
	fs.StringVar(&c.tokens, "tokens", "", "a `FILE` of TOKEN ROLE NAME lines (role read or write); without it the server only reads")
	fs.DurationVar(&c.poll, "poll", serve.DefaultPollInterval, "how often to look for events written by other processes")
	fs.DurationVar(&c.verifyEvery, "verify-every", serve.DefaultVerifyEvery, "how often to verify the hash chains for /healthz, first at start (0: never)")
	fs.IntVar(&c.maxCached, "max-cached-events", serve.DefaultMaxCachedEvents,
		"how many `EVENTS` of the instruments asked about stay loaded between requests, the least recently asked let go first (-1: no bound)")
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
	var tokens *serve.Tokens
	if c.tokens != "" {
		var err error
		if tokens, err = serve.ReadTokenFile(c.tokens); err != nil {
			return fmt.Errorf("--tokens %s: %w", c.tokens, err)
		}
		warnIfShared(a, c.tokens)
	}
	if err := serve.CheckAddress(c.addr, tokens != nil); err != nil {
		return &usageError{msg: err.Error()}
	}
	readOnly := tokens == nil
	if readOnly && !c.exists(a) {
		path, _ := filePath(c.resolve(a))
		return errNoLedger(path)
	}
	l, closeStore, err := c.open(a, readOnly)
	if err != nil {
		return err
	}
	defer closeStore()
	logger := slog.New(slog.NewTextHandler(a.stderr, nil))
	cfg := serve.Config{Ledger: l, Tokens: tokens, Logger: logger, PollInterval: c.poll, VerifyEvery: c.verifyEvery, MaxCachedEvents: c.maxCached}
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
		mode = fmt.Sprintf("%d tokens from %s", tokens.Len(), c.tokens)
	}
	fmt.Fprintf(a.stdout, "consensus serve: listening on http://%s (%s); stop with Ctrl-C\n", ln.Addr(), mode)
	if err := srv.Serve(ctx, ln); err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, "consensus serve: stopped")
	return nil
}

// warnIfShared warns when others than the owner may read the token file:
// its tokens are passwords.
func warnIfShared(a *app, path string) {
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		fmt.Fprintf(a.stderr, "consensus serve: warning: %s may be read by other users (mode %s); chmod 600 it\n", path, st.Mode().Perm())
	}
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
