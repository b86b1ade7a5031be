// Package esdbtest is an in-process EventStoreDB/KurrentDB server for tests:
// a gRPC server, built on the protobuf code generated in
// EventStore-Client-Go itself, that speaks the subset of the server's
// protocol the ledger's esdb backend uses, so that tests run the real
// client over the real wire protocol without a database.
//
// # What it models
//
//   - ServerFeatures.GetSupportedMethods, the client's first call on every
//     connection, reporting a configurable server version (default 24.10.0).
//   - Gossip.Read, describing a one-node cluster whose leader is this
//     server, so esdb+discover:// connection strings and node preferences
//     go through the client's discovery.
//   - Streams.Append: the expected revision checks (any, no stream, stream
//     exists, exact revision) with the WrongExpectedVersion answer carrying
//     the current and expected revisions; stream revisions from 0; every
//     event its own self-committed record, so its commit and prepare
//     positions are equal and grow with the bytes written, as since
//     EventStoreDB 20.6; atomic appends; the maximum append size (1 MiB by
//     default, events counted as the server counts them) refused with the
//     server's exception trailer.
//   - Streams.Read of one stream, forwards and backwards, from a revision,
//     the start or the end, with StreamNotFound for a stream with no events
//     and an empty answer past its end.
//   - Streams.Read of $all, forwards and backwards, from the start, the end
//     or a position (forwards inclusive of a record at that position; a
//     position whose prepare part exceeds its commit part refused as the
//     server's Position type refuses it),
//     unfiltered or filtered on stream name or event type by prefixes or a
//     regular expression. The log starts with a few system events ($users,
//     $settings), which filters must skip.
//   - Catch-up subscriptions to $all, filtered or not: a confirmation,
//     the stored events, a checkpoint every checkpointIntervalMultiplier x
//     maxSearchWindow events considered, one CaughtUp message (as servers
//     from 23.10 send), then live events as they are committed. From a
//     position the subscription skips the first record at or after it, as
//     the server does.
//   - Streams.Tombstone: a $streamDeleted record in $all, and every later
//     read or append of the stream refused with the stream-deleted
//     exception trailer the client turns into ErrorCodeStreamDeleted.
//   - TLS with a self-signed certificate (Options.TLS) and Basic
//     authentication of every Streams call (Options.Username/Password).
//
// # What it does not model
//
// Clustering and replication (one node, always the leader), persistence
// (everything is in memory), soft deletes (Streams.Delete) and stream
// metadata such as $maxAge, $maxCount and $tb, scavenging, access control
// lists, the server's cache-bound idempotency by event id (a repeated
// append with the same ids is written again), BatchAppend, subscriptions to
// one stream, persistent subscriptions, projections, link events and
// resolving them, FellBehind, the compatibility control option, the .NET
// syntax of filter regular expressions (Go's RE2 syntax is used), and
// reads of $all from a position that is not a record's: the real server
// reads its log from that byte offset, which it may refuse or misread;
// here the read starts at the next record.
package esdbtest

import (
	"context"
	"crypto/subtle"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/gossip"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/serverfeatures"
	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
)

// Options configures a test server. The zero value is a plaintext server
// without authentication, like a node started with --insecure.
type Options struct {
	// Version is the server version GetSupportedMethods reports; empty
	// means 24.10.0.
	Version string
	// TLS serves over TLS with a self-signed certificate for localhost and
	// 127.0.0.1, whose file CAFile names.
	TLS bool
	// Username and Password, when set, are required (as Basic
	// authentication) on every Streams call. The client sends credentials
	// only over TLS.
	Username, Password string
	// MaxAppendSize bounds one append, its events counted as the server
	// counts them (data, metadata and twice the type's length); zero means
	// the server's default of 1 MiB. A larger append is refused with the
	// server's status (InvalidArgument) and exception trailers
	// (maximum-append-size-exceeded, maximum-append-size).
	MaxAppendSize int
	// Now is the clock of the events' created times; nil means time.Now.
	Now func() time.Time
}

// Server is a running test server. Make one with Start and stop it with
// Close.
type Server struct {
	opts       Options
	model      *model
	serverOpts []grpc.ServerOption
	instance   uuid.UUID
	dir        string // holds the certificate file, when TLS
	caFile     string

	mu   sync.Mutex
	addr net.Addr
	srv  *grpc.Server
	done chan struct{} // closed when srv has stopped serving

	closeOnce sync.Once
}

// Start listens on 127.0.0.1 on a free port and serves until Close.
func Start(opts Options) (*Server, error) {
	if opts.Version == "" {
		opts.Version = "24.10.0"
	}
	if opts.MaxAppendSize <= 0 {
		opts.MaxAppendSize = 1 << 20
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	s := &Server{opts: opts, model: newModel(opts.MaxAppendSize, opts.Now), instance: uuid.New()}
	if opts.TLS {
		dir, err := os.MkdirTemp("", "esdbtest-")
		if err != nil {
			return nil, fmt.Errorf("esdbtest: %w", err)
		}
		s.dir = dir
		cert, caFile, err := selfSigned(dir)
		if err != nil {
			return nil, errors.Join(fmt.Errorf("esdbtest: %w", err), os.RemoveAll(dir))
		}
		s.caFile = caFile
		s.serverOpts = append(s.serverOpts, grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})))
	}
	s.serverOpts = append(s.serverOpts, grpc.StreamInterceptor(s.authStream), grpc.UnaryInterceptor(s.authUnary))
	if err := s.serve("127.0.0.1:0"); err != nil {
		return nil, errors.Join(err, s.removeDir())
	}
	return s, nil
}

// serve listens on addr and serves in the background.
func (s *Server) serve(addr string) error {
	lis, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("esdbtest: listen: %w", err)
	}
	srv := grpc.NewServer(s.serverOpts...)
	api.RegisterStreamsServer(srv, &streamsService{m: s.model})
	serverfeatures.RegisterServerFeaturesServer(srv, &featuresService{version: s.opts.Version})
	gossip.RegisterGossipServer(srv, &gossipService{instance: s.instance, addr: s.Addr})
	done := make(chan struct{})
	s.mu.Lock()
	s.addr, s.srv, s.done = lis.Addr(), srv, done
	s.mu.Unlock()
	go func() {
		defer close(done)
		_ = srv.Serve(lis) // returns when the server is stopped
	}()
	return nil
}

// stop ends every call and connection and waits until the server has
// stopped serving.
func (s *Server) stop() {
	s.mu.Lock()
	srv, done := s.srv, s.done
	s.mu.Unlock()
	srv.Stop()
	<-done
}

// Restart drops every connection and call in progress, as a node restart
// does, and serves again on the same address with the same events.
func (s *Server) Restart() error {
	s.stop()
	return s.serve(s.Addr())
}

// Addr is the host:port the server listens on.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr.String()
}

// ConnectionString is an esdb:// connection string for the server: with
// tls=false for a plaintext server, with tlsCAFile and the credentials
// otherwise. Tests add settings with "&".
func (s *Server) ConnectionString() string {
	if !s.opts.TLS {
		return "esdb://" + s.Addr() + "?tls=false"
	}
	creds := ""
	if s.opts.Username != "" {
		creds = s.opts.Username + ":" + s.opts.Password + "@"
	}
	_, port, _ := net.SplitHostPort(s.Addr())
	return "esdb://" + creds + "localhost:" + port + "?tlsCAFile=" + s.caFile
}

// CAFile is the path of the self-signed certificate of a TLS server, empty
// for a plaintext one.
func (s *Server) CAFile() string { return s.caFile }

// Close stops the server, ending every call in progress, and removes its
// files. It is safe to call more than once.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.stop()
		err = s.removeDir()
	})
	return err
}

func (s *Server) removeDir() error {
	if s.dir == "" {
		return nil
	}
	return os.RemoveAll(s.dir)
}

// authStream and authUnary check the credentials of Streams calls; the
// discovery services answer anyone, as the real server's do.
func (s *Server) authStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	if err := s.authenticate(ss.Context(), info.FullMethod); err != nil {
		return err
	}
	return handler(srv, ss)
}

func (s *Server) authUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	if err := s.authenticate(ctx, info.FullMethod); err != nil {
		return nil, err
	}
	return handler(ctx, req)
}

func (s *Server) authenticate(ctx context.Context, method string) error {
	if s.opts.Username == "" || !strings.HasPrefix(method, "/event_store.client.streams.") {
		return nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	want := "Basic " + base64.StdEncoding.EncodeToString([]byte(s.opts.Username+":"+s.opts.Password))
	for _, got := range md.Get("authorization") {
		if subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1 {
			return nil
		}
	}
	return status.Error(codes.Unauthenticated, "Bad credentials")
}
