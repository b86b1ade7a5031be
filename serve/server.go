// Package serve is `consensus serve`: the ledger's HTTP API and its web
// page, in one handler on net/http.
//
// The API under /api/v1 mirrors the command line and its JSON shapes (show,
// show --all, history, log, instruments, import), adds a batch write of
// import rows, a server-sent event stream of new events, an OpenAPI
// document, a health check that reports hash-chain problems, and Prometheus
// metrics. The page at / is embedded in the binary and draws its charts
// with package chart on the server, so it needs no internet and no build
// step.
//
// Access is by bearer tokens from a token file (ParseTokens); every event a
// token writes records the token's name as recorded_by. Without a token
// file the server only reads.
package serve

import (
	"context"
	"crypto/ed25519"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"

	"golang.org/x/sync/singleflight"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/ledger"
)

// Defaults of a Config.
const (
	DefaultPollInterval   = 250 * time.Millisecond
	DefaultVerifyEvery    = time.Hour
	DefaultMaxBodyBytes   = 1 << 20
	DefaultMaxImportBytes = 1 << 30
	// DefaultMaxCacheBytes bounds the encoded answers kept between
	// requests: some six answers about every instrument of a
	// 100,000-instrument ledger, or hundreds of thousands of single ones.
	DefaultMaxCacheBytes = 256 << 20
)

// Config says what a Server serves and how.
type Config struct {
	// Ledger answers and records. Required.
	Ledger *ledger.Ledger
	// Store is the store the Ledger is over, as whoever opened it holds
	// it: the server follows it for new events (the event stream and the
	// answer cache), reads it for the health check, and uses its optional
	// capabilities (listing streams, finding ids). Required.
	Store eventstore.Store
	// Tokens grants access. Nil (and no TokenFile) serves reads to anyone
	// and refuses every write; the command line then listens on loopback
	// only, and the server answers only requests for a loopback Host (see
	// AllowedHosts).
	Tokens *Tokens
	// TokenFile, when set, grants access instead of Tokens, reloaded while
	// the server runs: when the file changes, and on every value from
	// Reload.
	TokenFile *TokenFile
	// Reload asks for the token file to be read again (the command line
	// sends SIGHUP here).
	Reload <-chan os.Signal
	// AllowedHosts are the Host names, besides localhost and loopback
	// addresses, that a server without tokens answers (see
	// CheckAllowedHosts).
	AllowedHosts []string
	// Logger receives server faults and lifecycle messages; nil discards.
	Logger *slog.Logger
	// PollInterval is how often the server reads the store for events
	// written by other processes, when the store does not push them.
	PollInterval time.Duration
	// VerifyEvery is how often the hash chains are verified for
	// GET /healthz (the first run starts at once); negative never runs.
	VerifyEvery time.Duration
	// MaxBodyBytes bounds the body of POST /api/v1/events.
	MaxBodyBytes int64
	// MaxImportBytes bounds the body of POST /api/v1/import.
	MaxImportBytes int64
	// BodyIdleTimeout is the longest a request body may pause, and
	// MinBodyRate the bytes a second it must average after its first
	// BodyIdleTimeout; a slower body is cut off with 408 (see
	// requestBody). Zero means DefaultBodyIdleTimeout and
	// DefaultMinBodyRate; a negative rate means no rate.
	BodyIdleTimeout time.Duration
	MinBodyRate     int64
	// TempDir is where imports sort large bodies; "" is the system's.
	TempDir string
	// CheckpointDir, when set, is the directory a signed checkpoint of the
	// stream heads is written to, at start and every CheckpointEvery
	// (zero: DefaultCheckpointEvery), each a new file named by its time,
	// never overwriting one. Ship the directory to write-once storage.
	CheckpointDir string
	// CheckpointKey signs the checkpoints; required with CheckpointDir.
	CheckpointKey ed25519.PrivateKey
	// CheckpointEvery is the interval between checkpoints.
	CheckpointEvery time.Duration
	// MaxCacheBytes bounds the bytes of the encoded answers kept between
	// requests, all kinds together, each counted as its encoded bytes and
	// key; the least recently used are let go first. Zero means
	// DefaultMaxCacheBytes; negative keeps no answers.
	MaxCacheBytes int64
	// MaxExpensive bounds the requests whose cost grows with the request
	// (histories, charts, logs, lists of every instrument, imports) that
	// run at once; more are refused with 503 and Retry-After. Zero means
	// DefaultMaxExpensive.
	MaxExpensive int
	// MaxStreams bounds the event-stream clients served at once; more are
	// refused with 503. Zero means DefaultMaxStreams.
	MaxStreams int
	// SnapshotInterval is how often a server over a writable store saves
	// the stream snapshots that are due (serve/snapshots.go). Zero means
	// DefaultSnapshotInterval; negative never runs.
	SnapshotInterval time.Duration
}

// Server is the HTTP API and web page over one ledger. Make one with New,
// serve its Handler, and run its background work with Run (or use Serve,
// which does both).
type Server struct {
	cfg     Config
	handler http.Handler     // the mux, behind the Host check of a server without tokens
	l       *ledger.Ledger   // cfg.Ledger
	store   eventstore.Store // cfg.Store
	log     *slog.Logger     // cfg.Logger
	mux     *http.ServeMux
	metrics *metrics
	cache   *answerCache
	// loads shares one read of an instrument among concurrent requests
	// that miss the cache together (see indexOf).
	loads singleflight.Group
	// writes serialises this server's writes to each instrument.
	writes writeLocks
	hub    *hub
	health *healthState
	// checkpoints is the last checkpoint written, for the health check.
	checkpoints *checkpointState
	// expensive, imports and streams admit the requests of routes that
	// name them (see routes and newGates).
	expensive, imports, streams *gate
	web                         *webAssets
}

// New makes a server. It fails when Config.Ledger or Config.Store is missing, or when the
// embedded web assets cannot be prepared (which would be a build fault).
func New(cfg Config) (*Server, error) {
	if cfg.Ledger == nil {
		return nil, errors.New("serve: Config.Ledger is required")
	}
	if cfg.Store == nil {
		return nil, errors.New("serve: Config.Store is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = discardLogger()
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.VerifyEvery == 0 {
		cfg.VerifyEvery = DefaultVerifyEvery
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxImportBytes <= 0 {
		cfg.MaxImportBytes = DefaultMaxImportBytes
	}
	if cfg.BodyIdleTimeout <= 0 {
		cfg.BodyIdleTimeout = DefaultBodyIdleTimeout
	}
	if cfg.MinBodyRate == 0 {
		cfg.MinBodyRate = DefaultMinBodyRate
	}
	if cfg.TempDir == "" {
		cfg.TempDir = os.TempDir()
	}
	if cfg.CheckpointDir != "" && cfg.CheckpointKey == nil {
		return nil, errors.New("serve: Config.CheckpointKey is required with CheckpointDir")
	}
	if cfg.CheckpointEvery <= 0 {
		cfg.CheckpointEvery = DefaultCheckpointEvery
	}
	if cfg.MaxCacheBytes == 0 {
		cfg.MaxCacheBytes = DefaultMaxCacheBytes
	}
	if cfg.MaxExpensive <= 0 {
		cfg.MaxExpensive = DefaultMaxExpensive
	}
	if cfg.MaxStreams <= 0 {
		cfg.MaxStreams = DefaultMaxStreams
	}
	web, err := loadWebAssets()
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, l: cfg.Ledger, store: cfg.Store, log: cfg.Logger, mux: http.NewServeMux(),
		metrics: newMetrics(), cache: newAnswerCache(max(cfg.MaxCacheBytes, 0)), health: &healthState{}, checkpoints: &checkpointState{}, web: web}
	s.expensive, s.imports, s.streams = newGates(cfg)
	s.metrics.watchCache(s.cache, cfg.Ledger)
	s.metrics.watchGates(s.expensive, s.imports, s.streams)
	s.hub = newHub(cfg.Store, cfg.PollInterval, cfg.Logger)
	s.hub.onRecord = s.recordLanded
	s.hub.frame = s.streamFrame
	s.hub.onFollowing = func(ok bool) {
		s.cache.setEnabled(ok)
		if !ok {
			s.metrics.storeErrors.WithLabelValues("follow").Inc()
		}
	}
	routed := http.NewServeMux()
	for _, rt := range s.routes() {
		h := s.wrap(rt)
		s.mux.Handle(rt.pattern(), h)
		routed.Handle(rt.pattern(), h)
	}
	s.mux.Handle("/", s.handleUnrouted(routed))
	s.handler = s.mux
	if !s.hasTokens() {
		s.handler = s.checkHost(s.mux)
	}
	return s, nil
}

// discardLogger is the logger of a server, or token file, given none.
func discardLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// Handler is the server's whole HTTP surface.
func (s *Server) Handler() http.Handler { return s.handler }

// Run does the server's background work until ctx is done: following the
// store for new events (the event stream and the answer cache depend on
// it), verifying the hash chains for the health check, writing
// checkpoints when configured, and saving the stream snapshots that are due.
func (s *Server) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { s.hub.run(ctx) })
	wg.Go(func() { s.snapshotLoop(ctx) })
	if s.cfg.TokenFile != nil {
		wg.Go(func() { s.cfg.TokenFile.watch(ctx, TokenPollInterval, s.cfg.Reload) })
	} else if s.cfg.Reload != nil {
		wg.Go(func() { s.ignoreReloads(ctx) })
	}
	if s.cfg.VerifyEvery > 0 {
		wg.Go(func() { s.verifyLoop(ctx) })
	}
	if s.cfg.CheckpointDir != "" {
		wg.Go(func() { s.checkpointLoop(ctx) })
	}
	wg.Wait()
}

// recordLanded is told of every record the store commits: the answers
// about its instrument are out of date.
func (s *Server) recordLanded(r eventstore.Record) {
	if sym, ok := domain.SymbolOfStream(r.Stream); ok {
		s.cache.changed(sym)
	}
}

// now is the time questions default to.
func (s *Server) now() time.Time { return s.l.Now() }
