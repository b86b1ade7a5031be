package esdbtest

import (
	"fmt"
	"regexp"
	"strings"

	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
)

// filter is a server-side $all filter: on the stream name or the event
// type, by prefixes or by a regular expression. A nil filter lets every
// record through.
type filter struct {
	onType   bool
	prefixes []string
	re       *regexp.Regexp
	// window is how many records a filtered subscription considers between
	// two checkpoints (checkpointIntervalMultiplier x max search window).
	window int
}

// defaultSearchWindow is the server's read batch size, the search window of
// a filter that gives none.
const defaultSearchWindow = 32

// newFilter builds the filter a read asks for; nil when it asks for none.
func newFilter(o *api.ReadReq_Options_FilterOptions) (*filter, error) {
	if o == nil {
		return nil, nil
	}
	f := &filter{}
	expr := o.GetStreamIdentifier()
	if et := o.GetEventType(); et != nil {
		f.onType, expr = true, et
	}
	if expr == nil {
		return nil, fmt.Errorf("a filter needs a stream or event type expression")
	}
	if expr.GetRegex() != "" {
		// Go's RE2 syntax, not .NET's: lookarounds and backreferences are
		// refused here though the real server accepts them.
		re, err := regexp.Compile(expr.GetRegex())
		if err != nil {
			return nil, fmt.Errorf("filter regex: %w", err)
		}
		f.re = re
	} else {
		f.prefixes = expr.GetPrefix()
	}
	window := int(o.GetMax())
	if window == 0 {
		window = defaultSearchWindow
	}
	f.window = window * max(1, int(o.GetCheckpointIntervalMultiplier()))
	return f, nil
}

// allows reports whether the record passes the filter.
func (f *filter) allows(r *record) bool {
	if f == nil {
		return true
	}
	subject := r.stream
	if f.onType {
		subject = r.typ
	}
	if f.re != nil {
		return f.re.MatchString(subject)
	}
	for _, p := range f.prefixes {
		if strings.HasPrefix(subject, p) {
			return true
		}
	}
	return false
}
