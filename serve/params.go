package serve

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/consensus-ledger/consensus/chart"
	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/projections"
)

// call is what a handler is given besides the request: who is calling, and
// the query parameters, checked against the names the endpoint takes (a
// misspelt parameter, asof=, would otherwise be ignored and answer another
// question than the one asked).
type call struct {
	who    Principal
	values url.Values
}

// checkQuery checks a request's query parameters: only the allowed names,
// each at most once.
func checkQuery(values url.Values, allowed ...string) error {
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	slices.Sort(names) // report the same parameter first every time
	for _, name := range names {
		if !slices.Contains(allowed, name) {
			takes := "no parameters"
			if len(allowed) > 0 {
				takes = strings.Join(allowed, ", ")
			}
			return refuse(http.StatusBadRequest, domain.Shorten(name), "unknown query parameter %s; this endpoint takes %s", domain.Quote(name), takes)
		}
		if len(values[name]) > 1 {
			return refuse(http.StatusBadRequest, name, "query parameter %s is given %d times; give it once", name, len(values[name]))
		}
	}
	return nil
}

func (c call) get(name string) string { return c.values.Get(name) }

func (c call) has(name string) bool { return c.values.Has(name) }

// point is the point in time a question is about, with whether each time
// was given or defaulted to now: answers about "now" are cached differently.
type point struct {
	query                   projections.Query
	asOfGiven, knownAtGiven bool
}

// parsePoint reads as_of, known_at and window as `show` reads --as-of,
// --known-at and --window: both times default to now, the window to 90d.
func parsePoint(c call, now time.Time) (point, error) {
	now = now.UTC()
	pt := point{query: projections.Query{AsOf: now, KnownAt: now, Window: projections.DefaultWindow}}
	var err error
	if c.has("as_of") {
		pt.asOfGiven = true
		if pt.query.AsOf, err = domain.ParseTime("as_of", c.get("as_of")); err != nil {
			return pt, badRequest(err)
		}
	}
	if c.has("known_at") {
		pt.knownAtGiven = true
		if pt.query.KnownAt, err = domain.ParseTime("known_at", c.get("known_at")); err != nil {
			return pt, badRequest(err)
		}
	}
	if c.has("window") {
		if pt.query.Window, err = projections.ParseWindow(c.get("window")); err != nil {
			return pt, badRequest(err)
		}
	}
	return pt, nil
}

// parseAdjustment reads adjusted and, for a series (history, chart), basis,
// as `--unadjusted` and `--basis` read: adjusted=false gives prices and
// targets as published; basis=each gives every row its own as_of's share
// basis, basis=last (the default) the last row's (CONTRACT section 7).
func parseAdjustment(c call, q *projections.Query, series bool) error {
	if c.has("adjusted") {
		adjusted, err := parseBool(c, "adjusted")
		if err != nil {
			return err
		}
		q.Unadjusted = !adjusted
	}
	if series && c.has("basis") {
		each, err := projections.ParseBasis(c.get("basis"))
		if err != nil {
			return badRequest(err)
		}
		q.EachBasis = each
	}
	return nil
}

// parseBool reads a flag parameter: true, false, 1 or 0; present without a
// value means true, as with a command-line flag.
func parseBool(c call, name string) (bool, error) {
	switch c.get(name) {
	case "", "true", "1":
		return c.has(name), nil
	case "false", "0":
		return false, nil
	}
	return false, refuse(http.StatusBadRequest, name, "%s %s must be true or false", name, domain.Quote(c.get(name)))
}

// period is the range and step of a history.
type period struct {
	from, to time.Time
	every    projections.Every
}

// parseRange reads the required from and to, in order. A bare date means
// the end of its day, except for from when fromStartOfDay is set (a range
// of whole days, such as the actions feed's).
func parseRange(c call, fromStartOfDay bool) (from, to time.Time, err error) {
	for _, name := range []string{"from", "to"} {
		if !c.has(name) {
			return from, to, refuse(http.StatusBadRequest, name, "query parameter %s is required (a date such as 2025-09-12)", name)
		}
	}
	if from, err = domain.ParseTime("from", c.get("from")); err != nil {
		return from, to, badRequest(err)
	}
	if fromStartOfDay && len(c.get("from")) == len(time.DateOnly) {
		y, m, d := from.Date()
		from = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	if to, err = domain.ParseTime("to", c.get("to")); err != nil {
		return from, to, badRequest(err)
	}
	if to.Before(from) {
		return from, to, refuse(http.StatusBadRequest, "to", "to %s is before from %s", domain.Quote(c.get("to")), domain.Quote(c.get("from")))
	}
	return from, to, nil
}

// parsePeriod reads from, to and every as `history` reads its flags. from
// and to are required; every defaults to defaultEvery, and "auto" chooses
// by the range's length, as charts do.
func parsePeriod(c call, defaultEvery string) (period, error) {
	var pr period
	var err error
	if pr.from, pr.to, err = parseRange(c, false); err != nil {
		return pr, err
	}
	every := defaultEvery
	if c.has("every") {
		every = c.get("every")
	}
	switch every {
	case "auto":
		pr.every = chart.AutoEvery(pr.from, pr.to)
	default:
		if pr.every, err = projections.ParseEvery(every); err != nil {
			return pr, badRequest(err)
		}
	}
	if err := projections.CheckHistoryRange(pr.from, pr.to, pr.every); err != nil {
		return pr, refuse(http.StatusBadRequest, "from", "%s", err)
	}
	return pr, nil
}

// parseSize reads a chart dimension in pixels, or def when absent.
func parseSize(c call, name string, def int) (int, error) {
	if !c.has(name) {
		return def, nil
	}
	n, err := strconv.Atoi(c.get(name))
	if err != nil {
		return 0, refuse(http.StatusBadRequest, name, "%s %s must be a whole number of pixels from %d to %d", name, domain.Quote(c.get(name)), chart.MinSize, chart.MaxSize)
	}
	if err := chart.CheckSize(name, n, false); err != nil {
		return 0, refuse(http.StatusBadRequest, name, "%s", err)
	}
	return n, nil
}

// parseSymbol reads the {symbol} of a path.
func parseSymbol(text string) (domain.Symbol, error) {
	sym, err := domain.ParseSymbol(text)
	if err != nil {
		return "", refuse(http.StatusBadRequest, "symbol", "symbol %s %s", domain.Quote(text), symbolReason(err))
	}
	return sym, nil
}

// symbolReason is why a symbol was refused, to name the field as the
// request does (symbol in a path, instrument in a query).
func symbolReason(err error) string {
	var v *domain.ValidationError
	if errors.As(err, &v) {
		return v.Reason
	}
	return "is not a symbol"
}
