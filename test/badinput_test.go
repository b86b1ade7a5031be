package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Exit statuses of CONTRACT section 4.
const (
	refused = 1 // the request was understood and refused
	usage   = 2 // the command line could not be understood
)

// seeded is a store holding a little history for the refusal tests, and the
// ids in it they refer to.
type seeded struct {
	store      string
	retracted  string // a rating that was retracted
	retraction string // the retraction of it
}

// seed records, on TEST (USD): a buy of a.one@firm-a at 2025-09-01 with a
// target, a close, and a hold of r.etracted@firm-r that was retracted.
func seed(t *testing.T, c *cli) seeded {
	t.Helper()
	s := seeded{store: newStore(t)}
	st := []string{"--store", s.store}
	c.ok(t, append([]string{"rate", "TEST", "--analyst", "a.one@firm-a", "--rating", "buy", "--target", "100", "--currency", "USD", "--at", "2025-09-01"}, st...)...)
	c.ok(t, append([]string{"close", "TEST", "--price", "100", "--currency", "USD", "--at", "2025-09-02"}, st...)...)
	s.retracted = strings.TrimSpace(c.ok(t, append([]string{"rate", "TEST", "--analyst", "r.etracted@firm-r", "--rating", "hold", "--currency", "USD", "--at", "2025-09-01"}, st...)...).stdout)
	s.retraction = strings.TrimSpace(c.ok(t, append([]string{"retract", s.retracted, "--reason", "wrong analyst"}, st...)...).stdout)
	return s
}

// badWrite is one refused writing command.
type badWrite struct {
	name string
	args []string // without --store
	code int
	// want are the texts stderr must name: the field and the value at fault.
	want []string
	// onHistory marks a refusal that depends on the seeded history, so it
	// is not also tried on a brand-new store (where it could be valid).
	onHistory bool
}

// TestRefusedWrites runs every bad writing command of the contract against
// a copy of a seeded store, and, unless the refusal depends on history,
// against a store path that does not exist yet. Each must exit with the
// right status, print nothing on stdout, say what is wrong in one line on
// stderr, and write nothing: the store answers exactly as before, and a new
// store path is not created.
func TestRefusedWrites(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	s := seed(t, c)
	// A day ahead, not ten minutes: the cases run in parallel long after
	// this line on a loaded machine (over five minutes was seen), and a
	// time ten minutes ahead of then is within the 5-minute allowance by
	// the time the command runs.
	future := time.Now().UTC().Add(24 * time.Hour).Format(time.RFC3339)
	unknown := uuid.Must(uuid.NewV7()).String()
	long := strings.Repeat("A", 21)

	rate := func(flags ...string) []string {
		base := map[string]string{"--analyst": "b.two@firm-b", "--rating": "buy", "--target": "120", "--currency": "USD", "--at": "2025-09-03"}
		return commandLine("rate", "TEST", base, flags)
	}
	closePrice := func(flags ...string) []string {
		base := map[string]string{"--price": "101", "--currency": "USD", "--at": "2025-09-03"}
		return commandLine("close", "TEST", base, flags)
	}
	revise := func(flags ...string) []string {
		base := map[string]string{"--analyst": "a.one@firm-a", "--target": "110", "--currency": "USD", "--at": "2025-09-03"}
		return commandLine("revise", "TEST", base, flags)
	}
	withdraw := func(flags ...string) []string {
		base := map[string]string{"--analyst": "a.one@firm-a", "--at": "2025-09-03"}
		return commandLine("withdraw", "TEST", base, flags)
	}
	split := func(flags ...string) []string {
		return commandLine("split", "TEST", map[string]string{"--at": "2025-09-03"}, append([]string{"--ratio", "4:1"}, flags...))
	}
	symbol := func(sym string) []string {
		return []string{"close", sym, "--price", "101", "--currency", "USD", "--at", "2025-09-03"}
	}

	cases := []badWrite{
		// Ratings.
		{name: "unknown rating word", args: rate("--rating", "superbuy"), code: refused, want: []string{"rating", "superbuy"}},
		// Targets.
		{name: "negative target", args: rate("--target", "-5"), code: refused, want: []string{"target", "-5"}},
		{name: "zero target", args: rate("--target", "0"), code: refused, want: []string{"target", `"0"`}},
		{name: "non-numeric target", args: rate("--target", "abc"), code: refused, want: []string{"target", "abc"}},
		{name: "7-decimal target", args: rate("--target", "165.6900001"), code: refused, want: []string{"target", "165.6900001"}},
		{name: "exponent target", args: rate("--target", "1e3"), code: refused, want: []string{"target", "1e3"}},
		{name: "target above a billion", args: rate("--target", "1000000000.000001"), code: refused, want: []string{"target", "1000000000.000001"}},
		{name: "negative revised target", args: revise("--target", "-1"), code: refused, want: []string{"target", "-1"}},
		{name: "7-decimal revised target", args: revise("--target", "1.1234567"), code: refused, want: []string{"target", "1.1234567"}},
		// Close prices.
		{name: "negative price", args: closePrice("--price", "-5"), code: refused, want: []string{"price", "-5"}},
		{name: "zero price", args: closePrice("--price", "0"), code: refused, want: []string{"price", `"0"`}},
		{name: "non-numeric price", args: closePrice("--price", "x1"), code: refused, want: []string{"price", "x1"}},
		{name: "NaN price", args: closePrice("--price", "NaN"), code: refused, want: []string{"price", "NaN"}},
		{name: "7-decimal price", args: closePrice("--price", "155.4400001"), code: refused, want: []string{"price", "155.4400001"}},
		// Currencies.
		{name: "two-letter currency", args: closePrice("--currency", "US"), code: refused, want: []string{"currency", "US"}},
		{name: "four-letter currency", args: closePrice("--currency", "USDX"), code: refused, want: []string{"currency", "USDX"}},
		{name: "currency with a digit", args: rate("--currency", "U5D"), code: refused, want: []string{"currency", "U5D"}},
		{name: "close in another currency", args: closePrice("--currency", "EUR"), code: refused, want: []string{"currency", "EUR"}, onHistory: true},
		{name: "rating in another currency", args: rate("--currency", "HKD"), code: refused, want: []string{"currency", "HKD"}, onHistory: true},
		{name: "revision in another currency", args: revise("--currency", "EUR"), code: refused, want: []string{"currency", "EUR"}, onHistory: true},
		// Symbols.
		{name: "symbol with a slash", args: symbol("BA/BA"), code: refused, want: []string{"symbol", "BA/BA"}},
		{name: "symbol with a semicolon", args: symbol("BABA;DROP"), code: refused, want: []string{"symbol", "BABA;DROP"}},
		{name: "symbol with a space", args: symbol("BA BA"), code: refused, want: []string{"symbol", "BA BA"}},
		{name: "symbol of 21 characters", args: symbol(long), code: refused, want: []string{"symbol", long}},
		{name: "empty symbol", args: symbol(""), code: refused, want: []string{"symbol"}},
		// Analysts.
		{name: "analyst of 101 characters", args: rate("--analyst", strings.Repeat("a", 101)), code: refused, want: []string{"analyst", `"` + strings.Repeat("a", 64) + `"… (101 characters)`}},
		{name: "analyst with a tab", args: rate("--analyst", "a\tb"), code: refused, want: []string{"analyst", `a\tb`}},
		// Effective times.
		{name: "unparseable time", args: rate("--at", "yesterday"), code: refused, want: []string{"at", "yesterday"}},
		{name: "impossible date", args: closePrice("--at", "2025-13-45"), code: refused, want: []string{"at", "2025-13-45"}},
		{name: "time without zone", args: closePrice("--at", "2025-09-01T10:00:00"), code: refused, want: []string{"at", "2025-09-01T10:00:00"}},
		{name: "date before 1900", args: rate("--at", "1899-12-31"), code: refused, want: []string{"at", "1899-12-31"}},
		{name: "time before 1900", args: closePrice("--at", "1899-12-31T23:59:59Z"), code: refused, want: []string{"at", "1899-12-31T23:59:59Z"}},
		{name: "time a day ahead", args: rate("--at", future), code: refused, want: []string{"at", future}},
		{name: "close a day ahead", args: closePrice("--at", future), code: refused, want: []string{"at", future}},
		{name: "withdrawal a day ahead", args: withdraw("--at", future), code: refused, want: []string{"at", future}},
		// Revisions and withdrawals need a rating at their time.
		{name: "revise for an analyst without a rating", args: revise("--analyst", "nobody@firm-n"), code: refused, want: []string{"analyst", "nobody@firm-n"}},
		{name: "withdraw for an analyst without a rating", args: withdraw("--analyst", "nobody@firm-n"), code: refused, want: []string{"analyst", "nobody@firm-n"}},
		{name: "revise before the analyst's rating", args: revise("--at", "2025-08-31"), code: refused, want: []string{"analyst", "a.one@firm-a"}, onHistory: true},
		{name: "withdraw before the analyst's rating", args: withdraw("--at", "2025-08-31"), code: refused, want: []string{"analyst", "a.one@firm-a"}, onHistory: true},
		{name: "withdraw after the only rating was retracted", args: withdraw("--analyst", "r.etracted@firm-r"), code: refused, want: []string{"analyst", "r.etracted@firm-r"}, onHistory: true},
		// Retractions.
		{name: "retract an unknown id", args: []string{"retract", unknown, "--reason", "test"}, code: refused, want: []string{"event_id", unknown}},
		{name: "retract a retraction", args: []string{"retract", s.retraction, "--reason", "test"}, code: refused, want: []string{"event_id", s.retraction}, onHistory: true},
		{name: "retract twice", args: []string{"retract", s.retracted, "--reason", "test"}, code: refused, want: []string{"event_id", s.retracted}, onHistory: true},
		{name: "retract a non-UUID", args: []string{"retract", "not-a-uuid", "--reason", "test"}, code: refused, want: []string{"event_id", "not-a-uuid"}},
		{name: "retract a truncated UUID", args: []string{"retract", s.retracted[:35], "--reason", "test"}, code: refused, want: []string{"event_id", s.retracted[:35]}},
		// Free text a terminal would act on.
		{name: "reason with an escape sequence", args: []string{"retract", s.retracted, "--reason", "typo\x1b[2J"}, code: refused, want: []string{"reason", `typo\x1b[2J`}, onHistory: true},
		{name: "reason with a bidirectional override", args: []string{"retract", s.retracted, "--reason", "typo \u202egnorw"}, code: refused, want: []string{"reason", `\u202e`}, onHistory: true},
		{name: "reason of 1,001 characters", args: []string{"retract", s.retracted, "--reason", strings.Repeat("r", 1001)}, code: refused, want: []string{"reason", "1001 characters"}, onHistory: true},
		{name: "source with a carriage return", args: rate("--source", "desk\rfake"), code: refused, want: []string{"source", `desk\rfake`}},
		// Splits (CONTRACT section 7): the ratio, the ex-date, and the fields
		// a split does not have.
		{name: "split 1:1", args: split("--ratio", "1:1"), code: refused, want: []string{"ratio", `"1:1"`, "must differ"}},
		{name: "split 0:1", args: split("--ratio", "0:1"), code: refused, want: []string{"ratio", `"0:1"`}},
		{name: "split 4:0", args: split("--ratio", "4:0"), code: refused, want: []string{"ratio", `"4:0"`}},
		{name: "split 4/1", args: split("--ratio", "4/1"), code: refused, want: []string{"ratio", `"4/1"`}},
		{name: "split 4:1.5", args: split("--ratio", "4:1.5"), code: refused, want: []string{"ratio", `"4:1.5"`}},
		{name: "split -4:1", args: split("--ratio", "-4:1"), code: refused, want: []string{"ratio", `"-4:1"`}},
		{name: "split 1000001:1", args: split("--ratio", "1000001:1"), code: refused, want: []string{"ratio", `"1000001:1"`, "at most 1000000"}},
		{name: "split 1:1000001", args: split("--ratio", "1:1000001"), code: refused, want: []string{"ratio", `"1:1000001"`}},
		{name: "split empty ratio", args: split("--ratio", ""), code: usage, want: []string{"--ratio"}},
		{name: "split without --ratio", args: without(split(), "--ratio"), code: usage, want: []string{"--ratio"}},
		{name: "split without --at", args: without(split(), "--at"), code: usage, want: []string{"--at"}},
		{name: "split on an unknown-format date", args: split("--at", "03/09/2025"), code: refused, want: []string{"at", "03/09/2025"}},
		{name: "split on an impossible date", args: split("--at", "2025-02-30"), code: refused, want: []string{"at", "2025-02-30"}},
		{name: "split a day ahead", args: split("--at", future), code: refused, want: []string{"at", future}},
		{name: "split with a currency", args: split("--currency", "USD"), code: refused, want: []string{"currency", `"USD"`, "not a field of a split"}},
		{name: "split with a target", args: split("--target", "100"), code: refused, want: []string{"target", `"100"`, "not a field of a split"}},
		{name: "split with a price", args: split("--price", "100"), code: refused, want: []string{"price", `"100"`, "not a field of a split"}},
		// Usage errors: missing flags, arguments, unknown flags.
		{name: "rate without --analyst", args: without(rate(), "--analyst"), code: usage, want: []string{"--analyst"}},
		{name: "rate without --rating", args: without(rate(), "--rating"), code: usage, want: []string{"--rating"}},
		{name: "rate without --currency", args: without(rate(), "--currency"), code: usage, want: []string{"--currency"}},
		{name: "rate without --at", args: without(rate(), "--at"), code: usage, want: []string{"--at"}},
		{name: "rate without SYMBOL", args: append([]string{"rate"}, rate()[2:]...), code: usage, want: []string{"SYMBOL"}},
		{name: "rate with two symbols", args: append([]string{"rate", "TEST", "MORE"}, rate()[2:]...), code: usage, want: []string{"MORE"}},
		{name: "rate with an unknown flag", args: rate("--bogus", "1"), code: usage, want: []string{"--bogus"}},
		{name: "revise without --analyst", args: without(revise(), "--analyst"), code: usage, want: []string{"--analyst"}},
		{name: "revise without --target", args: without(revise(), "--target"), code: usage, want: []string{"--target"}},
		{name: "revise without --currency", args: without(revise(), "--currency"), code: usage, want: []string{"--currency"}},
		{name: "revise without --at", args: without(revise(), "--at"), code: usage, want: []string{"--at"}},
		{name: "revise without SYMBOL", args: append([]string{"revise"}, revise()[2:]...), code: usage, want: []string{"SYMBOL"}},
		{name: "withdraw without --analyst", args: without(withdraw(), "--analyst"), code: usage, want: []string{"--analyst"}},
		{name: "withdraw without --at", args: without(withdraw(), "--at"), code: usage, want: []string{"--at"}},
		{name: "withdraw with --target", args: withdraw("--target", "5"), code: usage, want: []string{"--target"}},
		{name: "close without --price", args: without(closePrice(), "--price"), code: usage, want: []string{"--price"}},
		{name: "close without --currency", args: without(closePrice(), "--currency"), code: usage, want: []string{"--currency"}},
		{name: "close without --at", args: without(closePrice(), "--at"), code: usage, want: []string{"--at"}},
		{name: "close with a misspelt flag", args: closePrice("--prise", "5"), code: usage, want: []string{"--prise"}},
		{name: "retract without --reason", args: []string{"retract", s.retracted}, code: usage, want: []string{"--reason"}},
		{name: "retract without EVENT_ID", args: []string{"retract", "--reason", "test"}, code: usage, want: []string{"EVENT_ID"}},
	}

	// Every case starts from a byte-for-byte copy of the seeded store, so
	// the seeded store's answers are what each copy must still give after
	// its refusal; reading them once saves two runs of the binary a case.
	before := snapshot(t, c, s.store)
	fieldTried := map[string]bool{}
	for _, tc := range cases {
		again := fieldTried[tc.want[0]]
		fieldTried[tc.want[0]] = true
		t.Run(tc.name, func(t *testing.T) {
			if again {
				skipShort(t, "the quick loop tries the first refusal of each field, the full run every one")
			}
			t.Parallel()
			store := copyStore(t, s.store)
			r := c.run(t, append(tc.args, "--store", store)...)
			assertRefused(t, r, tc.code, tc.want)
			assert.Equal(t, before, snapshot(t, c, store), "a refused command must write nothing")

			if tc.onHistory {
				return
			}
			fresh := newStore(t)
			r = c.run(t, append(tc.args, "--store", fresh)...)
			assertRefused(t, r, tc.code, tc.want)
			assertNoFile(t, fresh)
		})
	}
}

// commandLine builds `name SYMBOL` with the base flags, each overridden by
// the given name/value pairs (which may also add flags).
func commandLine(name, symbol string, base map[string]string, flags []string) []string {
	values := map[string]string{}
	var order []string
	for _, f := range []string{"--analyst", "--rating", "--target", "--price", "--currency", "--at"} {
		if v, ok := base[f]; ok {
			values[f] = v
			order = append(order, f)
		}
	}
	for i := 0; i+1 < len(flags); i += 2 {
		if _, ok := values[flags[i]]; !ok {
			order = append(order, flags[i])
		}
		values[flags[i]] = flags[i+1]
	}
	args := []string{name, symbol}
	for _, f := range order {
		args = append(args, f, values[f])
	}
	return args
}

// without drops a flag and its value from a command line.
func without(args []string, flag string) []string {
	var out []string
	for i := 0; i < len(args); i++ {
		if args[i] == flag {
			i++
			continue
		}
		out = append(out, args[i])
	}
	return out
}

// assertRefused checks a refused command: the exit status, nothing on
// stdout, and one clean line on stderr naming what is at fault.
func assertRefused(t *testing.T, r result, code int, want []string) {
	t.Helper()
	assert.Equal(t, code, r.code, "exit status; stderr: %s", r.stderr)
	assert.Empty(t, r.stdout, "a refused write prints nothing on stdout")
	assertOneCleanLine(t, r.stderr)
	for _, w := range want {
		assert.Contains(t, r.stderr, w, "stderr should name %q", w)
	}
}

// TestRefusedQueries covers bad reading commands: they refuse with one line
// and never create a store.
func TestRefusedQueries(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	s := seed(t, c)
	cases := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"unknown instrument", []string{"show", "NOPE"}, refused, []string{"NOPE"}},
		{"unknown instrument in log", []string{"log", "NOPE"}, refused, []string{"NOPE"}},
		{"unknown instrument in history", []string{"history", "NOPE", "--from", "2025-09-01", "--to", "2025-09-02"}, refused, []string{"NOPE"}},
		{"unknown instrument in verify", []string{"verify", "NOPE"}, refused, []string{"NOPE"}},
		{"bad symbol", []string{"show", "BA/BA"}, refused, []string{"symbol", "BA/BA"}},
		{"bad --as-of", []string{"show", "TEST", "--as-of", "someday"}, refused, []string{"as-of", "someday"}},
		{"bad --known-at", []string{"show", "TEST", "--known-at", "2025-99-01"}, refused, []string{"known-at", "2025-99-01"}},
		{"bad --window", []string{"show", "TEST", "--window", "ninety"}, refused, []string{"window", "ninety"}},
		{"history --to before --from", []string{"history", "TEST", "--from", "2025-09-02", "--to", "2025-09-01"}, refused, []string{"to", "2025-09-01"}},
		{"show without SYMBOL", []string{"show"}, usage, []string{"SYMBOL"}},
		{"history without --from", []string{"history", "TEST", "--to", "2025-09-01"}, usage, []string{"--from"}},
		{"show with an unknown flag", []string{"show", "TEST", "--asof", "2025-09-01"}, usage, []string{"--asof"}},
		{"unknown command", []string{"shwo", "TEST"}, usage, []string{"shwo"}},
	}
	// The cases only read, so the store must answer after each exactly as
	// it did before any of them.
	before := snapshot(t, c, s.store)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := c.run(t, append(tc.args, "--store", s.store)...)
			assertRefused(t, r, tc.code, tc.want)
			assert.Equal(t, before, snapshot(t, c, s.store))
		})
	}
}

// TestStoreThatDoesNotExist asks every reading command of a store path that
// does not exist: each refuses (exit 1) and creates no file.
func TestStoreThatDoesNotExist(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	for _, args := range [][]string{
		{"show", "BABA"},
		{"show", "BABA", "--as-of", "2025-09-11", "--json"},
		{"log", "BABA"},
		{"history", "BABA", "--from", "2025-09-01", "--to", "2025-09-02"},
		{"instruments"},
		{"verify"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			store := filepath.Join(dir, "missing.db")
			r := c.run(t, append(args, "--store", store)...)
			assertRefused(t, r, refused, []string{store})
			assertNoFile(t, store)
			assert.Empty(t, dirEntries(t, dir))
		})
	}

	t.Run("default store in the working directory", func(t *testing.T) {
		t.Parallel()
		c := newCLI(t) // its own, empty, working directory
		r := c.run(t, "show", "BABA")
		assertRefused(t, r, refused, []string{"consensus.db"})
		assert.Empty(t, dirEntries(t, c.dir), "asking a question never creates the default store")
	})
}

// TestStoreInMissingDirectory writes to a store whose directory does not
// exist: refused, naming the path, and the directory is not created.
func TestStoreInMissingDirectory(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	parent := t.TempDir()
	missing := filepath.Join(parent, "no", "such", "dir")
	for _, spec := range []string{filepath.Join(missing, "ledger.db"), "sqlite:" + filepath.Join(missing, "ledger.db")} {
		for _, args := range [][]string{
			{"rate", "TEST", "--analyst", "a@b", "--rating", "buy", "--currency", "USD", "--at", "2025-09-01"},
			{"close", "TEST", "--price", "1", "--currency", "USD", "--at", "2025-09-01"},
			{"demo"},
			{"show", "TEST"},
		} {
			r := c.run(t, append(args, "--store", spec)...)
			assertRefused(t, r, refused, []string{"store", missing})
		}
	}
	assert.Empty(t, dirEntries(t, parent), "no directory may be created")
}

// TestStoreThatIsNotALedger points every command at a text file: each is
// refused and the file's bytes stay exactly as they were, with no journal
// or WAL file created beside it.
func TestStoreThatIsNotALedger(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "notes.txt")
	content := []byte("These are my notes, not a ledger.\nSecond line.\n")
	require.NoError(t, os.WriteFile(path, content, 0o644))
	for _, args := range [][]string{
		{"rate", "TEST", "--analyst", "a@b", "--rating", "buy", "--currency", "USD", "--at", "2025-09-01"},
		{"close", "TEST", "--price", "1", "--currency", "USD", "--at", "2025-09-01"},
		{"retract", uuid.Must(uuid.NewV7()).String(), "--reason", "test"},
		{"demo"},
		{"show", "TEST"},
		{"log", "TEST"},
		{"instruments"},
		{"verify"},
	} {
		r := c.run(t, append(args, "--store", path)...)
		assertRefused(t, r, refused, []string{path})
		assert.Contains(t, r.stderr, "not a consensus ledger")
		got, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, content, got, "%s must leave the file unchanged", args[0])
	}
	assert.Equal(t, []string{"notes.txt"}, dirEntries(t, dir))
}
