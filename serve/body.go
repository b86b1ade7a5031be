package serve

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/consensus-ledger/consensus/domain"

	"github.com/consensus-ledger/consensus/errkind"
)

// A request body must keep arriving: one that pauses for longer than
// Config.BodyIdleTimeout, or that averages under Config.MinBodyRate after
// the first BodyIdleTimeout, is cut off with a 408. Without this a client
// that sends a few bytes and stalls would hold the only import slot for
// as long as the import's overall deadline, an hour.
const (
	DefaultBodyIdleTimeout = 30 * time.Second
	DefaultMinBodyRate     = 16 << 10 // bytes a second: a slow link, far above a trickle
)

// requestBody is the body of a POST, bounded in size (limit bytes, after
// decompression), in time (see pacedBody; within is the most the whole
// body may take) and in encoding: plain, or gzip as backfill clients send
// it. Every handler that reads a body reads it through here.
func (s *Server) requestBody(w http.ResponseWriter, r *http.Request, limit int64, within time.Duration) (*boundedBody, error) {
	gzipped, err := bodyEncoding(r.Header.Values("Content-Encoding"))
	if err != nil {
		return nil, err
	}
	start := time.Now()
	paced := &pacedBody{body: r.Body, rc: http.NewResponseController(w), start: start,
		end: start.Add(within), idle: s.cfg.BodyIdleTimeout, rate: s.cfg.MinBodyRate}
	if !gzipped {
		return &boundedBody{http.MaxBytesReader(w, paced, limit), paced}, nil
	}
	// Compressed bytes are bounded too: a stream of empty gzip members
	// would otherwise be read for ever without decompressing to anything.
	zr, err := gzip.NewReader(http.MaxBytesReader(w, paced, limit))
	if err != nil {
		return nil, paced.blame(gzipError(err))
	}
	return &boundedBody{http.MaxBytesReader(w, &gzipBody{zr}, limit), paced}, nil
}

// boundedBody is what requestBody returns: the body to read, and what
// became of it on the connection.
type boundedBody struct {
	io.Reader
	paced *pacedBody
}

// blame returns why the body was cut off, if it was, in place of err. A
// failed read of the body also ends the request's context, so a handler
// that was told so first (context canceled) would hide the reason.
func (b *boundedBody) blame(err error) error { return b.paced.blame(err) }

// bodyEncoding reads Content-Encoding: none or identity is plain, gzip (or
// its old name x-gzip) once is compressed, anything else is a 415.
func bodyEncoding(values []string) (gzipped bool, err error) {
	for _, v := range values {
		for coding := range strings.SplitSeq(v, ",") {
			switch c := strings.ToLower(strings.TrimSpace(coding)); {
			case c == "" || c == "identity":
			case (c == "gzip" || c == "x-gzip") && !gzipped:
				gzipped = true
			default:
				return false, refuse(errkind.UnsupportedMedia.Status(), "Content-Encoding",
					"Content-Encoding %s is not supported: send the body as it is, or compressed once with gzip", domain.Quote(strings.Join(values, ", ")))
			}
		}
	}
	return gzipped, nil
}

// gzipBody turns the decompressor's complaints about the data into 400s;
// errors of the connection beneath pass through as they are.
type gzipBody struct{ zr *gzip.Reader }

func (g *gzipBody) Read(p []byte) (int, error) {
	n, err := g.zr.Read(p)
	if err != nil && err != io.EOF {
		err = gzipError(err)
	}
	return n, err
}

func (g *gzipBody) Close() error { return g.zr.Close() }

func gzipError(err error) error {
	var (
		tooLarge *http.MaxBytesError
		cut      *bodyCutError
	)
	if errors.As(err, &tooLarge) || errors.As(err, &cut) {
		return err
	}
	return refuse(http.StatusBadRequest, "Content-Encoding", "the body is not valid gzip (%v)", err)
}

// pacedBody reads a request body from the connection under a read deadline
// set before every read: no later than idle from now (a pause), no later
// than the start plus idle plus the time the bytes received so far would
// take at rate (a trickle), and no later than end. It also says who is at
// fault when the read fails: the client, never the server.
type pacedBody struct {
	body     io.ReadCloser
	rc       *http.ResponseController
	start    time.Time
	end      time.Time
	idle     time.Duration
	rate     int64
	received int64
	done     bool          // the body ended: the connection's reads are net/http's again
	cut      *bodyCutError // why it ended early, if it did
}

func (b *pacedBody) blame(err error) error {
	if err != nil && b.cut != nil {
		return b.cut
	}
	return err
}

func (b *pacedBody) Read(p []byte) (int, error) {
	if b.done {
		// At the body's end net/http starts reading the connection itself,
		// to notice a client going away, with no deadline; one set here
		// would end that read and cancel the request's context.
		return b.body.Read(p)
	}
	deadline := earliest(b.end, time.Now().Add(b.idle))
	if b.rate > 0 {
		earned := time.Duration(b.received/b.rate)*time.Second + time.Duration(b.received%b.rate)*time.Second/time.Duration(b.rate)
		deadline = earliest(deadline, b.start.Add(b.idle+earned))
	}
	// A test's recorder cannot set deadlines; a connection can.
	_ = b.rc.SetReadDeadline(deadline)
	n, err := b.body.Read(p)
	b.received += int64(n)
	if err != nil {
		b.done = true
	}
	if err == nil || err == io.EOF {
		return n, err
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return n, err
	}
	b.cut = &bodyCutError{timeout: isTimeout(err), received: b.received, took: time.Since(b.start), pace: b, cause: err}
	return n, b.cut
}

func (b *pacedBody) Close() error { return b.body.Close() }

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

// isTimeout reports whether a read failed on its deadline.
func isTimeout(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout()
}

// bodyCutError is a request body that stopped before its end: too slow
// (timeout, a 408), or the connection broke (the client went away or sent
// a malformed body; answered, if anyone still listens, with 499, nginx's
// "client closed request", so it counts as neither a bad request nor a
// server fault).
type bodyCutError struct {
	timeout  bool
	received int64
	took     time.Duration
	pace     *pacedBody
	cause    error
}

func (e *bodyCutError) Error() string {
	took := e.took.Round(time.Millisecond)
	if e.timeout {
		return fmt.Sprintf("the request body arrived too slowly (%d bytes in %s): a body may pause for at most %s and must average %d bytes a second; send it again",
			e.received, took, e.pace.idle, e.pace.rate)
	}
	return fmt.Sprintf("the request body broke off after %d bytes in %s: the client closed the connection or sent a malformed body", e.received, took)
}

func (e *bodyCutError) Unwrap() error { return e.cause }
