package errkind

import (
	"net/http"
	"strings"
)

// Kind is what sort of failure an error is, as the user has to act on it.
type Kind int

// The kinds shared by the command line and the API.
const (
	// Internal is a fault of the ledger or its store, not of the request.
	// The API says nothing of it beyond "see the log"; the command line,
	// run by the operator, prints the error itself.
	Internal Kind = iota
	// Usage is a command line or request that could not be understood.
	Usage
	// Invalid is a request understood and refused: a value at fault.
	Invalid
	// Malformed is input that is not of the expected form as a whole (a
	// file that is not an import file).
	Malformed
	// NotFound is a request about something the ledger does not hold.
	NotFound
	// Conflict is a write that lost to another writer or reuses an id.
	Conflict
	// ReadOnly is a write to a store opened read-only.
	ReadOnly
	// Cancelled is work stopped by its context before it finished.
	Cancelled
	// NewerVersion is a ledger holding an event of a type this version
	// does not know: written by a newer consensus. Nothing is damaged and
	// the request is not at fault; only upgrading this program helps.
	NewerVersion
)

// The kinds only the server meets: they come from the HTTP exchange itself
// (its body, its connection, the server's load), never from the ledger, so
// they have no exit status of their own. The server makes most of them
// directly (serve's refuse with the kind's Status); the table lists them so
// every status the API can answer is stated here.
const (
	// Busy is a request refused for now; the server sends Retry-After.
	Busy Kind = iota + NewerVersion + 1
	// Timeout is a request whose body did not arrive in time.
	Timeout
	// ClientGone is a request whose client closed the connection.
	ClientGone
	// TooLarge is a request body over the server's limit.
	TooLarge
	// UnsupportedMedia is a body in an encoding the server does not read.
	UnsupportedMedia
	// Misdirected is a request for a host name this server does not serve.
	Misdirected
)

// Exit statuses of CONTRACT section 4.
const (
	ExitOK      = 0
	ExitRefused = 1 // understood and refused: invalid, not found, conflict
	ExitUsage   = 2
)

// StatusClientClosed is the status of a request whose client went away
// before the answer (nginx's 499): no standard status says so, and it keeps
// such requests apart from the server's own faults in logs and metrics.
const StatusClientClosed = 499

// kindInfo is one row of the kinds table.
type kindInfo struct {
	name   string
	exit   int
	status int
	// public is what the API says instead of the error's own text, when
	// that text is not the client's business or is worded for an operator.
	public string
	// serveOnly marks a kind the command line never meets.
	serveOnly bool
}

// kinds is the one table of what each kind means to a user of the command
// line and of the API. Every failure the command line reports that is not
// a usage error exits 1, internal faults included, as it always has.
var kinds = map[Kind]kindInfo{
	Internal:  {name: "internal", exit: ExitRefused, status: http.StatusInternalServerError, public: "internal error; the server's log has the details"},
	Usage:     {name: "usage", exit: ExitUsage, status: http.StatusBadRequest},
	Invalid:   {name: "invalid", exit: ExitRefused, status: http.StatusUnprocessableEntity},
	Malformed: {name: "malformed", exit: ExitRefused, status: http.StatusBadRequest},
	NotFound:  {name: "not found", exit: ExitRefused, status: http.StatusNotFound},
	Conflict:  {name: "conflict", exit: ExitRefused, status: http.StatusConflict},
	ReadOnly:  {name: "read-only", exit: ExitRefused, status: http.StatusForbidden, public: "the store is open read-only"},
	Cancelled: {name: "cancelled", exit: ExitRefused, status: http.StatusServiceUnavailable, public: "the request was cancelled before it finished"},
	// A ledger written by a newer version is 501 Not Implemented: this
	// server does not implement an event type the answer needs. Not 500,
	// which says something broke and hides the cause in the log; not 409
	// or 422, which tell the client to change or retry its request, when
	// nothing the client sends can help until the server is upgraded.
	NewerVersion: {name: "newer version", exit: ExitRefused, status: http.StatusNotImplemented,
		public: "the ledger holds events written by a newer version of consensus; this server must be upgraded to read them"},

	Busy:             {name: "busy", exit: ExitRefused, status: http.StatusServiceUnavailable, serveOnly: true},
	Timeout:          {name: "timeout", exit: ExitRefused, status: http.StatusRequestTimeout, serveOnly: true},
	ClientGone:       {name: "client gone", exit: ExitRefused, status: StatusClientClosed, serveOnly: true},
	TooLarge:         {name: "too large", exit: ExitRefused, status: http.StatusRequestEntityTooLarge, serveOnly: true},
	UnsupportedMedia: {name: "unsupported media", exit: ExitRefused, status: http.StatusUnsupportedMediaType, serveOnly: true},
	Misdirected:      {name: "misdirected", exit: ExitRefused, status: http.StatusMisdirectedRequest, serveOnly: true},
}

func (k Kind) info() kindInfo {
	if i, ok := kinds[k]; ok {
		return i
	}
	return kinds[Internal]
}

// String names the kind, as the table does.
func (k Kind) String() string { return k.info().name }

// Exit is the command line's exit status for a failure of this kind.
func (k Kind) Exit() int { return k.info().exit }

// Status is the API's HTTP status for a failure of this kind.
func (k Kind) Status() int { return k.info().status }

// ServeOnly reports whether only the server meets failures of this kind.
func (k Kind) ServeOnly() bool { return k.info().serveOnly }

// Public is what the API tells its client about err: the kind's own
// sentence where the table has one, else err's text.
func (k Kind) Public(err error) string {
	if p := k.info().public; p != "" {
		return p
	}
	return err.Error()
}

// Sentence makes a message one line ending in a full stop: the form of
// every error the command line prints and the API sends (CONTRACT section 4).
func Sentence(msg string) string {
	msg = strings.ReplaceAll(msg, "\n", " ")
	if !strings.HasSuffix(msg, ".") {
		msg += "."
	}
	return msg
}
