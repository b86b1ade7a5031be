package esdb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"

	"github.com/consensus-ledger/consensus/eventstore"
)

// DefaultStreamPrefixes are the streams the ledger keeps its events in:
// one per instrument, instrument-<SYMBOL>.
var DefaultStreamPrefixes = []string{"instrument-"}

// Defaults of Options.
const (
	DefaultTimeout        = 10 * time.Second
	DefaultConnectTimeout = 5 * time.Second
	// DefaultMaxAppendSize is the MaxAppendSize EventStoreDB and
	// KurrentDB servers run with unless configured otherwise: 1 MiB.
	DefaultMaxAppendSize = 1 << 20
)

// Options configures Open.
type Options struct {
	// Now is the clock RecordedAt is read from; nil means time.Now.
	Now func() time.Time

	// ReadOnly makes Append and AppendCopies return
	// eventstore.ErrReadOnly, for commands that only read.
	ReadOnly bool

	// StreamPrefixes are the streams ReadAll and SubscribeAll read,
	// through the server's stream-prefix filter on $all, and Streams
	// lists; nil means DefaultStreamPrefixes. Streams the store writes for itself (its id
	// index and stream catalog) never match them.
	StreamPrefixes []string

	// Timeout bounds every call to the server: a unary call must finish,
	// and a streaming read must receive something, within it. Zero means
	// DefaultTimeout.
	Timeout time.Duration

	// ConnectTimeout bounds Open's first contact with the server,
	// discovery included. Zero means DefaultConnectTimeout.
	ConnectTimeout time.Duration

	// Getenv reads EnvUsername and EnvPassword when the connection string
	// carries no credentials; nil means os.Getenv.
	Getenv func(string) string

	// MaxAppendSize is the server's MaxAppendSize, in bytes: the largest
	// append it accepts. The store keeps every append a margin below it
	// (see Store.MaxAppendBytes), so imports and copies split their
	// batches to fit. Zero means DefaultMaxAppendSize, the server's
	// default; a connection string's maxAppendSize setting wins.
	MaxAppendSize int

	// Logf receives the client library's own log lines (discovery,
	// reconnections); nil discards them, so that they never mix with a
	// command's output.
	Logf func(format string, args ...any)
}

// The Store and every optional capability the EventStoreDB store implements
// (see eventstore/capabilities.go).
var (
	_ eventstore.Store            = (*Store)(nil)
	_ eventstore.StreamLister     = (*Store)(nil)
	_ eventstore.Finder           = (*Store)(nil)
	_ eventstore.Copier           = (*Store)(nil)
	_ eventstore.AppendLimiter    = (*Store)(nil)
	_ eventstore.Subscriber       = (*Store)(nil)
	_ eventstore.ReadOnlyReporter = (*Store)(nil)
)

// Store is an eventstore.Store kept on an EventStoreDB or KurrentDB server
// (or cluster). Make one with Open and release it with Close.
type Store struct {
	cfg      *esdb.Configuration
	target   string // the node or seeds, for messages
	now      func() time.Time
	readOnly bool
	prefixes []string
	timeout  time.Duration
	// maxAppendSize is the server's MaxAppendSize, in bytes.
	maxAppendSize int

	// subscribedReads is true when the server sends CaughtUp at the end of
	// a subscription's catch-up (EventStoreDB 23.10 and later), so that
	// ReadAll can read $all through a server-side filter; see ReadAll.
	subscribedReads bool

	mu     sync.Mutex
	client *esdb.Client
	closed bool
	// inflight counts the calls using a client. EventStore-Client-Go's
	// Close is not safe while a call is still handing its request to the
	// client, so after Close the client is closed by the last call out.
	inflight     int
	clientClosed bool
}

var (
	_ eventstore.Store         = (*Store)(nil)
	_ eventstore.Finder        = (*Store)(nil)
	_ eventstore.StreamLister  = (*Store)(nil)
	_ eventstore.Copier        = (*Store)(nil)
	_ eventstore.Subscriber    = (*Store)(nil)
	_ eventstore.AppendLimiter = (*Store)(nil)
)

// Open connects to the server a connection string names (esdb://,
// esdb+discover://, kurrentdb:// or kurrentdb+discover://, with the
// settings EventStore-Client-Go accepts: tls, tlsCAFile, nodePreference,
// ...). It contacts the server before returning, within
// Options.ConnectTimeout, so that an unreachable or misconfigured server is
// one clear error here rather than on the first command.
func Open(ctx context.Context, connString string, opts Options) (*Store, error) {
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	conn, err := parseConnectionString(connString, opts.Getenv)
	if err != nil {
		return nil, fmt.Errorf("connection string %s: %w", Redact(connString), err)
	}
	cfg, target := conn.cfg, conn.target
	cfg.Logger = esdb.NoopLogging()
	if opts.Logf != nil {
		logf := opts.Logf
		cfg.Logger = func(level esdb.LogLevel, format string, args ...any) { logf("esdb "+level+": "+format, args...) }
	}
	s := &Store{
		cfg: cfg, target: target, now: opts.Now, readOnly: opts.ReadOnly,
		prefixes: opts.StreamPrefixes, timeout: opts.Timeout, maxAppendSize: opts.MaxAppendSize,
	}
	if conn.maxAppendSize > 0 {
		s.maxAppendSize = conn.maxAppendSize
	}
	if s.maxAppendSize <= 0 {
		s.maxAppendSize = DefaultMaxAppendSize
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.prefixes == nil {
		s.prefixes = DefaultStreamPrefixes
	}
	if err := checkPrefixes(s.prefixes); err != nil {
		return nil, err
	}
	if s.timeout <= 0 {
		s.timeout = DefaultTimeout
	}
	if s.client, err = esdb.NewClient(cfg); err != nil {
		return nil, fmt.Errorf("connection string %s: %w", Redact(connString), err)
	}
	connect := opts.ConnectTimeout
	if connect <= 0 {
		connect = DefaultConnectTimeout
	}
	if err := s.handshake(ctx, connect); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	return s, nil
}

// checkPrefixes refuses stream prefixes that would let the store's own
// streams, or the server's, into ReadAll.
func checkPrefixes(prefixes []string) error {
	if len(prefixes) == 0 {
		return errors.New("no stream prefixes: ReadAll would read nothing")
	}
	for _, p := range prefixes {
		if p == "" || strings.HasPrefix(p, "$") || strings.HasPrefix(bookkeepingPrefix, p) || isBookkeeping(p) {
			return fmt.Errorf("stream prefix %q would take in the server's or the store's own streams", p)
		}
	}
	return nil
}

// handshake makes the first contact: discovery, the server's version (which
// decides how ReadAll reads), and one authenticated read, so that bad
// credentials fail Open too.
func (s *Store) handshake(ctx context.Context, within time.Duration) error {
	var version *esdb.ServerVersion
	err := s.callWithin(ctx, within, func(_ context.Context, c *esdb.Client, _ func()) error {
		v, err := c.GetServerVersion()
		version = v
		return err
	})
	if err != nil {
		return err
	}
	s.subscribedReads = version.Major > 23 || version.Major == 23 && version.Minor >= 10
	if _, err := s.readHead(ctx, catalogStream); err != nil {
		return err
	}
	return nil
}

// Close releases the connection. It is safe to call more than once.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	now := s.inflight == 0
	s.clientClosed = now
	c := s.client
	s.mu.Unlock()
	if now {
		return c.Close()
	}
	return nil
}

// Target names the server (or the cluster's gossip seeds), without
// credentials, for messages.
func (s *Store) Target() string { return s.target }

// ReadOnly reports whether the store was opened read-only.
func (s *Store) ReadOnly() bool { return s.readOnly }

// errClosed is returned by every call on a closed store.
var errClosed = errors.New("the store is closed")

// acquire returns the client to call and the function to call when done
// with it.
func (s *Store) acquire() (*esdb.Client, func(), error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, nil, errClosed
	}
	s.inflight++
	return s.client, s.release, nil
}

// release ends a use of the client, closing it if the store was closed
// meanwhile and this was the last use.
func (s *Store) release() {
	s.mu.Lock()
	s.inflight--
	now := s.closed && s.inflight == 0 && !s.clientClosed
	if now {
		s.clientClosed = true
	}
	c := s.client
	s.mu.Unlock()
	if now {
		_ = c.Close()
	}
}

// renew replaces a client that closed itself. EventStore-Client-Go gives up
// for good when a discovery fails (every later call answers "connection
// closed"), which would end a long-running serve at the first outage; a
// fresh client starts discovery again on its next call. The dead client is
// not closed: its connection goroutine has already ended, and closing it
// could panic a caller still queued on it.
func (s *Store) renew(dead *esdb.Client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.client != dead {
		return
	}
	if c, err := esdb.NewClient(s.cfg); err == nil {
		s.client = c
	}
}

// call runs one operation against the server under the store's deadline:
// fn must finish, or call alive to show progress, within the timeout. fn
// runs in its own goroutine and call returns as soon as ctx ends or the
// deadline passes, even if the client is stuck (it does not watch contexts
// while it discovers a node); fn must then keep what it produced to itself.
func (s *Store) call(ctx context.Context, fn func(ctx context.Context, c *esdb.Client, alive func()) error) error {
	return s.callWithin(ctx, s.timeout, fn)
}

// callWithin is call with a timeout of its own.
func (s *Store) callWithin(ctx context.Context, timeout time.Duration, fn func(ctx context.Context, c *esdb.Client, alive func()) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c, release, err := s.acquire()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	expired := &timeoutError{target: s.target, after: timeout}
	timer := time.AfterFunc(timeout, func() { cancel(expired) })
	defer timer.Stop()
	alive := func() { timer.Reset(timeout) }

	done := make(chan error, 1)
	go func() {
		defer release()
		done <- fn(ctx, c, alive)
	}()
	select {
	case err = <-done:
		if err == nil {
			return nil
		}
	case <-ctx.Done():
	}
	// When the deadline passed or the caller gave up, that is the answer,
	// whatever the interrupted call reported.
	if cause := context.Cause(ctx); cause != nil {
		return cause
	}
	return s.translate(c, err)
}
