package esdb

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/consensus-ledger/consensus/eventstore"
)

// Errors of this backend, besides eventstore's; test for them with
// errors.Is.
var (
	// ErrUnreachable is returned when no server answers: the address is
	// wrong, the node is down or the cluster has no node to offer.
	ErrUnreachable = errors.New("cannot reach the EventStoreDB/KurrentDB server")

	// ErrRefused is returned when the server refuses the credentials or
	// denies access to a stream.
	ErrRefused = errors.New("the EventStoreDB/KurrentDB server refused the request")

	// ErrStreamDeleted is returned when a stream the ledger wrote was
	// deleted on the server: the ledger never deletes, so this is damage.
	ErrStreamDeleted = errors.New("stream was deleted on the server")
)

// timeoutError is the answer of a call the server did not complete within
// the store's timeout. It wraps context.DeadlineExceeded.
type timeoutError struct {
	target string
	after  time.Duration
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf("the EventStoreDB/KurrentDB server at %s did not answer within %s", e.target, e.after)
}

func (e *timeoutError) Unwrap() error { return context.DeadlineExceeded }

// translate turns the client's errors into the store's, by the client's
// error code (or the gRPC status code, for the few errors the client passes
// on raw), never by message text.
func (s *Store) translate(c *esdb.Client, err error) error {
	var e *esdb.Error
	if _, isStatus := status.FromError(err); !errors.As(err, &e) && !isStatus {
		return err // the store's own, such as a record it cannot decode
	}
	code := clientCode(err)
	switch code {
	case esdb.ErrorCodeWrongExpectedVersion:
		return fmt.Errorf("%w: %v", eventstore.ErrWrongVersion, unwrapClient(err))
	case esdb.ErrorCodeConnectionClosed:
		s.renew(c)
		return fmt.Errorf("%w at %s: the connection was lost (%s); the next call reconnects", ErrUnreachable, s.target, detail(err))
	case esdb.ErrorUnavailable:
		return fmt.Errorf("%w at %s: %s", ErrUnreachable, s.target, detail(err))
	case esdb.ErrorCodeDeadlineExceeded:
		return &timeoutError{target: s.target, after: s.timeout}
	case esdb.ErrorCodeUnauthenticated:
		return fmt.Errorf("%w: the server at %s did not accept the credentials; give them in the connection string (esdb://USER:PASSWORD@HOST) or in %s and %s, over TLS",
			ErrRefused, s.target, EnvUsername, EnvPassword)
	case esdb.ErrorCodeAccessDenied:
		return fmt.Errorf("%w: the server at %s denied access; the ledger's user needs read and write access to its streams and to $all", ErrRefused, s.target)
	case esdb.ErrorCodeStreamDeleted:
		return fmt.Errorf("%w: %v", ErrStreamDeleted, unwrapClient(err))
	case esdb.ErrorCodeNotLeader:
		return fmt.Errorf("%w: the node at %s is not the cluster's leader; the client is reconnecting to the leader, try again", ErrUnreachable, s.target)
	}
	return fmt.Errorf("the server at %s answered: %w", s.target, unwrapClient(err))
}

// clientCode is the client's code for err, derived from the gRPC status
// when the client passed the status on without one.
func clientCode(err error) esdb.ErrorCode {
	var e *esdb.Error
	if errors.As(err, &e) && e.Code() != esdb.ErrorCodeUnknown {
		return e.Code()
	}
	st, ok := status.FromError(err)
	if !ok {
		return esdb.ErrorCodeUnknown
	}
	switch st.Code() {
	case codes.Unavailable:
		return esdb.ErrorUnavailable
	case codes.DeadlineExceeded:
		return esdb.ErrorCodeDeadlineExceeded
	case codes.Unauthenticated:
		return esdb.ErrorCodeUnauthenticated
	case codes.PermissionDenied:
		return esdb.ErrorCodeAccessDenied
	}
	return esdb.ErrorCodeUnknown
}

// unwrapClient drops the client's "[ErrorCode...] generic sentence" prefix
// and keeps its specific cause.
func unwrapClient(err error) error {
	var e *esdb.Error
	if errors.As(err, &e) && e.Err() != nil {
		return e.Err()
	}
	return err
}

// detail is the most specific part of an error for a one-line message:
// the gRPC status description's last clause (such as "connect: connection
// refused" or "x509: certificate signed by unknown authority"), or the
// error's own text. It only shapes messages; no decision depends on it.
func detail(err error) string {
	msg := unwrapClient(err).Error()
	if st, ok := status.FromError(err); ok && st.Message() != "" {
		msg = st.Message()
	}
	msg = strings.TrimRight(msg, `"`)
	if i := strings.LastIndex(msg, "desc = "); i >= 0 {
		msg = msg[i+len("desc = "):]
	}
	msg = strings.Trim(msg, `" `)
	if i := strings.LastIndex(msg, ": "); i >= 0 && i+2 < len(msg) {
		return msg[i+2:]
	}
	return msg
}
