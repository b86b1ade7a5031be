package gen_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/gen"
)

// small is a configuration quick enough for every test, yet long enough for
// withdrawals, re-initiations, silences and retractions to occur.
var small = gen.Config{Instruments: 12, Analysts: 60, Years: 4, Seed: 42}

// now is the ledger clock the replay judges effective times against: after
// the default end of a history.
var now = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)

func generate(tb testing.TB, cfg gen.Config, format gen.Format) ([]byte, gen.Stats) {
	tb.Helper()
	var buf bytes.Buffer
	stats, err := gen.Generate(context.Background(), &buf, cfg, format)
	require.NoError(tb, err)
	return buf.Bytes(), stats
}

// row is one generated import row, with its line number (from 1).
type row struct {
	line   int
	fields map[string]string // text of each field present; numbers as written
	raw    map[string]json.RawMessage
}

func (r row) get(k string) string { return r.fields[k] }

func parseJSONL(tb testing.TB, data []byte) []row {
	tb.Helper()
	var rows []row
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		var raw map[string]json.RawMessage
		require.NoError(tb, json.Unmarshal(sc.Bytes(), &raw), "line %d: %s", n, sc.Text())
		r := row{line: n, fields: map[string]string{}, raw: raw}
		for k, v := range raw {
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				var num json.Number
				require.NoError(tb, json.Unmarshal(v, &num), "line %d: field %s is neither a string nor a number", n, k)
				s = string(v) // a number, kept as its exact text
			}
			r.fields[k] = s
		}
		rows = append(rows, r)
	}
	require.NoError(tb, sc.Err())
	return rows
}

func TestGenerateIsDeterministic(t *testing.T) {
	for _, format := range []gen.Format{gen.JSONL, gen.CSV} {
		t.Run(format.String(), func(t *testing.T) {
			a, statsA := generate(t, small, format)
			b, statsB := generate(t, small, format)
			assert.True(t, bytes.Equal(a, b), "two runs of the same config differ")
			assert.Equal(t, statsA, statsB)

			other := small
			other.Seed++
			c, _ := generate(t, other, format)
			assert.False(t, bytes.Equal(a, c), "another seed gives the same history")
		})
	}
}

func TestGenerateRowsAreValidImportRows(t *testing.T) {
	data, stats := generate(t, small, gen.JSONL)
	rows := parseJSONL(t, data)
	require.NotEmpty(t, rows)

	first := time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)
	last := domain.EndOfDay(gen.DefaultEnd)
	allowed := map[string]bool{}
	for _, c := range gen.Columns {
		allowed[c] = true
	}
	wants := map[string][]string{
		"rating":   {"instrument", "analyst", "firm", "rating", "currency", "at", "id"},
		"target":   {"instrument", "analyst", "target", "currency", "at", "id"},
		"withdraw": {"instrument", "analyst", "at", "id"},
		"close":    {"instrument", "price", "currency", "at", "id"},
		"retract":  {"instrument", "id", "event_id", "reason"},
	}
	counts := map[string]int64{}
	currencies := map[string]string{}
	ids := map[string]string{} // id -> instrument
	lastAt := map[string]time.Time{}
	words := map[bool]bool{} // canonical word or broker synonym seen
	for _, r := range rows {
		typ := r.get("type")
		counts[typ]++
		want, ok := wants[typ]
		require.True(t, ok, "line %d: unknown type %q", r.line, typ)
		for k := range r.fields {
			assert.True(t, allowed[k], "line %d: unexpected field %q", r.line, k)
		}
		for _, k := range want {
			assert.NotEmpty(t, r.get(k), "line %d (%s): field %s is missing", r.line, typ, k)
		}

		sym := r.get("instrument")
		parsed, err := domain.ParseSymbol(sym)
		require.NoError(t, err, "line %d", r.line)
		assert.Equal(t, sym, string(parsed), "line %d: symbol not canonical", r.line)

		id, err := uuid.Parse(r.get("id"))
		require.NoError(t, err, "line %d", r.line)
		assert.Equal(t, r.get("id"), id.String(), "line %d: id not canonical", r.line)
		_, dup := ids[r.get("id")]
		require.False(t, dup, "line %d: duplicate id", r.line)
		ids[r.get("id")] = sym

		if c := r.get("currency"); c != "" {
			parsed, err := domain.ParseCurrency(c)
			require.NoError(t, err, "line %d", r.line)
			assert.Equal(t, c, string(parsed), "line %d", r.line)
			if fixed, seen := currencies[sym]; seen {
				assert.Equal(t, fixed, c, "line %d: %s changes currency", r.line, sym)
			}
			currencies[sym] = c
		}
		if a := r.get("analyst"); a != "" {
			_, err := domain.ParseAnalyst(a)
			assert.NoError(t, err, "line %d", r.line)
		}
		if f := r.get("firm"); f != "" {
			parsed, err := domain.ParseFirm(f)
			assert.NoError(t, err, "line %d", r.line)
			assert.Equal(t, f, parsed, "line %d", r.line)
		}
		if w := r.get("rating"); w != "" {
			rating, err := domain.ParseRating(w)
			assert.NoError(t, err, "line %d", r.line)
			words[w == rating.String()] = true
		}
		for _, k := range []string{"target", "price"} {
			if text := r.get(k); text != "" {
				assert.NotEqual(t, byte('"'), r.raw[k][0], "line %d: %s is not a JSON number", r.line, k)
				_, err := domain.ParseMoney(k, text)
				assert.NoError(t, err, "line %d", r.line)
				_, frac, _ := strings.Cut(text, ".")
				assert.LessOrEqual(t, len(frac), 2, "line %d: %s %s has more than 2 decimals", r.line, k, text)
			}
		}

		if typ == "retract" {
			assert.Empty(t, r.get("at"), "line %d: a retraction takes the time of the event it retracts", r.line)
			target, ok := ids[r.get("event_id")]
			assert.True(t, ok, "line %d: retracts an id not written before", r.line)
			assert.Equal(t, sym, target, "line %d: retracts another instrument's event", r.line)
			continue
		}
		at, err := domain.ParseTime("at", r.get("at"))
		require.NoError(t, err, "line %d", r.line)
		if typ == "close" {
			assert.Len(t, r.get("at"), len("2006-01-02"), "line %d: a close is a bare date", r.line)
		} else {
			_, err := time.Parse(time.RFC3339, r.get("at"))
			assert.NoError(t, err, "line %d: not an RFC 3339 time", r.line)
		}
		assert.False(t, at.Before(first), "line %d: %s before the history starts", r.line, r.get("at"))
		assert.False(t, at.After(last), "line %d: %s after the history ends", r.line, r.get("at"))
		assert.False(t, at.Before(lastAt[sym]), "line %d: %s goes back in time for %s", r.line, r.get("at"), sym)
		lastAt[sym] = at
	}

	assert.Equal(t, stats.Ratings, counts["rating"])
	assert.Equal(t, stats.Targets, counts["target"])
	assert.Equal(t, stats.Withdrawals, counts["withdraw"])
	assert.Equal(t, stats.Closes, counts["close"])
	assert.Equal(t, stats.Retractions, counts["retract"])
	assert.Equal(t, int64(len(rows)), stats.Rows())
	assert.Len(t, currencies, small.Instruments)
	for _, typ := range []string{"rating", "target", "withdraw", "close", "retract"} {
		assert.Positive(t, counts[typ], "no %s rows in the sample", typ)
	}
	assert.Greater(t, counts["target"], counts["rating"], "revisions should outnumber ratings")
	assert.True(t, words[true], "no canonical rating words")
	assert.True(t, words[false], "no broker synonyms")
}

func TestGenerateCSVHoldsTheSameRows(t *testing.T) {
	jsonl, _ := generate(t, small, gen.JSONL)
	data, stats := generate(t, small, gen.CSV)
	records, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, records)
	assert.Equal(t, gen.Columns, records[0], "header row")
	rows := parseJSONL(t, jsonl)
	require.Len(t, records[1:], len(rows))
	assert.Equal(t, stats.Rows(), int64(len(rows)))
	for i, rec := range records[1:] {
		for j, col := range gen.Columns {
			require.Equal(t, rows[i].get(col), rec[j], "CSV line %d, column %s", i+2, col)
		}
	}
}

func TestGenerateClosesArePositiveWithTwoDecimals(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped under -short: generates and parses 40 instruments over 10 years (about 3 s)")
	}
	data, _ := generate(t, gen.Config{Instruments: 40, Analysts: 10, Years: 10, Seed: 3}, gen.JSONL)
	for _, r := range parseJSONL(t, data) {
		if r.get("type") != "close" {
			continue
		}
		price := r.get("price")
		m, err := domain.ParseMoney("price", price)
		require.NoError(t, err, "line %d", r.line)
		assert.Positive(t, m, "line %d", r.line)
		whole, frac, hasDot := strings.Cut(price, ".")
		if r.get("currency") == "JPY" {
			assert.False(t, hasDot, "line %d: yen are quoted whole: %s", r.line, price)
		} else {
			assert.Len(t, frac, 2, "line %d: %s", r.line, price)
		}
		assert.NotEqual(t, "", whole)
	}
}

// replayRow parses an import row into its command with the parser the import
// uses, checking every field.
func replayRow(tb testing.TB, r row) domain.Command {
	tb.Helper()
	c, err := domain.Row{
		Type: r.get("type"), Instrument: r.get("instrument"), Analyst: r.get("analyst"), Firm: r.get("firm"),
		Rating: r.get("rating"), Target: r.get("target"), Price: r.get("price"), Currency: r.get("currency"),
		At: r.get("at"), EventID: r.get("event_id"), Reason: r.get("reason"), Ratio: r.get("ratio"),
	}.Command(now)
	require.NoError(tb, err, "line %d: %v", r.line, r.fields)
	return c
}

// replay decides rows (one instrument's) in the given order against the
// accumulating history, as the import does, and returns that history.
func replay(t *testing.T, rows []row) []domain.Recorded {
	t.Helper()
	var history []domain.Recorded
	recordedAt := time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)
	for _, r := range rows {
		e, err := domain.Decide(history, replayRow(t, r), now)
		if !assert.NoError(t, err, "line %d refused: %v", r.line, r.fields) {
			continue
		}
		recordedAt = recordedAt.Add(time.Microsecond)
		history = append(history, domain.Recorded{
			ID: uuid.MustParse(r.get("id")), Version: int64(len(history)), RecordedAt: recordedAt, Event: e,
		})
	}
	return history
}

// TestGenerateReplaysWithoutRefusal decides every row against the history
// the import would build, in the two orders an import may take (file order,
// and sorted by effective time with each retraction at the time of the event
// it retracts), and checks every revision and withdrawal is valid with all
// the file's rows in place, retractions included.
func TestGenerateReplaysWithoutRefusal(t *testing.T) {
	data, stats := generate(t, small, gen.JSONL)
	require.Positive(t, stats.Retractions)
	byInstrument := map[string][]row{}
	var order []string
	for _, r := range parseJSONL(t, data) {
		sym := r.get("instrument")
		if _, seen := byInstrument[sym]; !seen {
			order = append(order, sym)
		}
		byInstrument[sym] = append(byInstrument[sym], r)
	}
	for _, sym := range order {
		rows := byInstrument[sym]
		t.Run(sym, func(t *testing.T) {
			replay(t, rows)

			effective := map[string]time.Time{}
			key := func(r row) time.Time {
				if r.get("type") == "retract" {
					return effective[r.get("event_id")]
				}
				at, err := domain.ParseTime("at", r.get("at"))
				require.NoError(t, err)
				effective[r.get("id")] = at
				return at
			}
			keys := make(map[int]time.Time, len(rows))
			for _, r := range rows {
				keys[r.line] = key(r)
			}
			sorted := slices.Clone(rows)
			slices.SortStableFunc(sorted, func(a, b row) int { return keys[a.line].Compare(keys[b.line]) })
			history := replay(t, sorted)
			require.Len(t, history, len(rows))

			// With every row in place: each revision and withdrawal finds
			// the analyst holding a rating just before it.
			timeline := domain.NewTimeline(history, now)
			for _, r := range rows {
				if typ := r.get("type"); typ == "target" || typ == "withdraw" {
					before := timeline.Replay(keys[r.line].Add(-time.Nanosecond))
					assert.True(t, before.Holds(domain.Analyst(r.get("analyst"))),
						"line %d: %s holds no rating before %s with all rows in place", r.line, r.get("analyst"), r.get("at"))
				}
			}
		})
	}
}

func TestGenerateEndsOnTheConfiguredDay(t *testing.T) {
	cfg := gen.Config{Instruments: 3, Analysts: 5, Years: 1, Seed: 1, End: time.Date(2024, 6, 30, 15, 0, 0, 0, time.UTC)}
	data, stats := generate(t, cfg, gen.JSONL)
	assert.Equal(t, "2023-07-01", stats.From.Format(time.DateOnly))
	assert.Equal(t, "2024-06-30", stats.To.Format(time.DateOnly))
	var lastClose string
	for _, r := range parseJSONL(t, data) {
		if r.get("type") == "close" {
			lastClose = max(lastClose, r.get("at"))
		}
	}
	assert.Equal(t, "2024-06-28", lastClose, "the last weekday up to 30 June 2024, a Sunday")
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name  string
		cfg   gen.Config
		field string
	}{
		{"no instruments", gen.Config{Instruments: 0, Analysts: 1, Years: 1}, "instruments"},
		{"too many instruments", gen.Config{Instruments: gen.MaxInstruments + 1, Analysts: 1, Years: 1}, "instruments"},
		{"negative analysts", gen.Config{Instruments: 1, Analysts: -1, Years: 1}, "analysts"},
		{"too many analysts", gen.Config{Instruments: 1, Analysts: gen.MaxAnalysts + 1, Years: 1}, "analysts"},
		{"no years", gen.Config{Instruments: 1, Analysts: 1, Years: 0}, "years"},
		{"too many years", gen.Config{Instruments: 1, Analysts: 1, Years: gen.MaxYears + 1}, "years"},
		{"before 1900", gen.Config{Instruments: 1, Analysts: 1, Years: 10, End: time.Date(1905, 1, 1, 0, 0, 0, 0, time.UTC)}, "years"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			var ve *domain.ValidationError
			require.ErrorAs(t, err, &ve)
			assert.Equal(t, tt.field, ve.Field, "error %q", err)

			n, genErr := gen.Generate(context.Background(), io.Discard, tt.cfg, gen.JSONL)
			assert.ErrorAs(t, genErr, &ve)
			assert.Zero(t, n.Rows())
		})
	}
	assert.NoError(t, gen.Config{Instruments: gen.MaxInstruments, Analysts: gen.MaxAnalysts, Years: gen.MaxYears}.Validate())
}

func TestFormats(t *testing.T) {
	for _, tt := range []struct {
		name string
		want gen.Format
	}{{"jsonl", gen.JSONL}, {"CSV", gen.CSV}} {
		f, err := gen.ParseFormat(tt.name)
		require.NoError(t, err)
		assert.Equal(t, tt.want, f)
	}
	_, err := gen.ParseFormat("xml")
	var ve *domain.ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "format", ve.Field)

	for path, want := range map[string]gen.Format{"a.jsonl": gen.JSONL, "dir/b.CSV": gen.CSV, "c.ndjson": gen.JSONL} {
		f, ok := gen.FormatOf(path)
		assert.True(t, ok, path)
		assert.Equal(t, want, f, path)
	}
	_, ok := gen.FormatOf("history.txt")
	assert.False(t, ok)
}

func TestGenerateStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := gen.Generate(ctx, io.Discard, small, gen.JSONL)
	assert.ErrorIs(t, err, context.Canceled)
}

type failingWriter struct{ after int }

var errDiskFull = errors.New("disk full")

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.after -= len(p); w.after < 0 {
		return 0, errDiskFull
	}
	return len(p), nil
}

func TestGenerateReportsWriteErrors(t *testing.T) {
	_, err := gen.Generate(context.Background(), &failingWriter{after: 100_000}, small, gen.CSV)
	assert.ErrorIs(t, err, errDiskFull)
}

func TestNamespaceDependsOnTheWholeConfig(t *testing.T) {
	seen := map[uuid.UUID]string{}
	for _, cfg := range []gen.Config{
		small,
		{Instruments: small.Instruments + 1, Analysts: small.Analysts, Years: small.Years, Seed: small.Seed},
		{Instruments: small.Instruments, Analysts: small.Analysts + 1, Years: small.Years, Seed: small.Seed},
		{Instruments: small.Instruments, Analysts: small.Analysts, Years: small.Years + 1, Seed: small.Seed},
		{Instruments: small.Instruments, Analysts: small.Analysts, Years: small.Years, Seed: small.Seed + 1},
		{Instruments: small.Instruments, Analysts: small.Analysts, Years: small.Years, Seed: small.Seed, End: time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)},
		{Instruments: small.Instruments, Analysts: small.Analysts, Years: small.Years, Seed: small.Seed, Splits: true},
	} {
		ns := gen.Namespace(cfg)
		require.NotContains(t, seen, ns, "configs %s and %+v share a namespace", seen[ns], cfg)
		seen[ns] = fmt.Sprintf("%+v", cfg)
	}
}

func TestRowIDsAreDerivedFromTheNamespace(t *testing.T) {
	data, _ := generate(t, small, gen.JSONL)
	seq := map[string]int{}
	for _, r := range parseJSONL(t, data)[:500] {
		sym := r.get("instrument")
		seq[sym]++
		want := uuid.NewSHA1(gen.Namespace(small), []byte(fmt.Sprintf("%s#%d", sym, seq[sym])))
		require.Equal(t, want.String(), r.get("id"), "line %d", r.line)
	}
}

func BenchmarkGenerate(b *testing.B) {
	cfg := gen.Config{Instruments: 200, Analysts: 800, Years: 5, Seed: 1}
	var rows int64
	b.ReportAllocs()
	for b.Loop() {
		stats, err := gen.Generate(context.Background(), io.Discard, cfg, gen.JSONL)
		if err != nil {
			b.Fatal(err)
		}
		rows += stats.Rows()
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}
