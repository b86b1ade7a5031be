package serve

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/errkind"
)

// apiError is a refusal with its HTTP status and, when one field of the
// request is at fault, that field's name as the API spells it.
type apiError struct {
	status int
	field  string
	msg    string
	// retryAfter, in seconds, is sent as Retry-After when positive: the
	// request was refused for now (the server is busy), not for good.
	retryAfter int
}

func (e *apiError) Error() string { return e.msg }

// refuse makes an apiError.
func refuse(status int, field, format string, args ...any) error {
	return &apiError{status: status, field: field, msg: fmt.Sprintf(format, args...)}
}

// badRequest turns a parse error of a query parameter or path segment into
// a 400 naming the field.
func badRequest(err error) error {
	var v *domain.ValidationError
	if errors.As(err, &v) {
		return &apiError{status: http.StatusBadRequest, field: v.Field, msg: err.Error()}
	}
	return &apiError{status: http.StatusBadRequest, msg: err.Error()}
}

// errorBody is every error response: one sentence, and the field at fault
// or null.
type errorBody struct {
	Error string  `json:"error"`
	Field *string `json:"field"`
}

// describeError chooses the status, field and sentence of an error from
// errkind's table, the one the command line takes its exit statuses from:
// refusals of the request are 4xx and name what is wrong; anything else is
// a 500 that says nothing of the server's insides. Only the failures of the
// HTTP exchange itself (errkind's serve-only kinds) are told apart here.
//
// retryAfter is the seconds after which a request refused for now (the
// server is busy) may be sent again; 0 for every other error.
func describeError(err error) (status int, field, msg string, retryAfter int) {
	var (
		api      *apiError
		tooLarge *http.MaxBytesError
		cut      *bodyCutError
	)
	switch {
	case errors.As(err, &api):
		return api.status, api.field, api.msg, api.retryAfter
	case errors.As(err, &cut) && cut.timeout:
		return errkind.Timeout.Status(), "", cut.Error(), 0
	case errors.As(err, &cut):
		return errkind.ClientGone.Status(), "", cut.Error(), 0
	case errors.As(err, &tooLarge):
		return errkind.TooLarge.Status(), "", fmt.Sprintf("the request body is larger than the limit of %d bytes", tooLarge.Limit), 0
	}
	kind, field := errkind.Of(err)
	return kind.Status(), field, kind.Public(err), 0
}

// writeError answers with the JSON error for err, logging server faults
// with the request id so an operator can find them.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, field, msg, retryAfter := describeError(err)
	if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
		// The request's own context ends when its client goes away.
		status, field, msg, retryAfter = errkind.ClientGone.Status(), "", "the client closed the connection before the answer", 0
	}
	if retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	}
	if status == errkind.ClientGone.Status() {
		// The client's doing, not a fault to page anyone about: noted,
		// and counted under 499 in the request metrics.
		s.log.Info("client went away", slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.String("request_id", w.Header().Get("X-Request-Id")), slog.Any("error", err))
	} else if status >= 500 && retryAfter == 0 {
		s.log.Error("request failed", slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.String("request_id", w.Header().Get("X-Request-Id")), slog.Any("error", err))
		if status == http.StatusInternalServerError {
			op := "write"
			if r.Method == http.MethodGet {
				op = "read"
			}
			s.metrics.storeErrors.WithLabelValues(op).Inc()
		}
	}
	body := errorBody{Error: sentence(msg)}
	if field != "" {
		body.Field = &field
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="consensus"`)
	}
	writeJSON(w, status, body)
}

// sentence makes a message one line ending in a full stop, by errkind's
// rule, as the command line prints its errors.
func sentence(msg string) string { return errkind.Sentence(msg) }
