package test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The input rules of issue 10, as a user meets them at the command line.

// writeFile writes content to a new file named name and returns its path.
func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

// importStdin runs `import -` with content on standard input.
func importStdin(t *testing.T, c *cli, content string, args ...string) result {
	t.Helper()
	cmd, stdout, stderr := c.command(append([]string{"import", "-"}, args...)...)
	cmd.Stdin = strings.NewReader(content)
	return finish(t, cmd.Run(), stdout, stderr)
}

const cutCSVReason = "is the last line and has no newline at its end, so it may have been cut off " +
	"(a price of 155.44 cut to 155 still reads as a row): it is not imported; " +
	"if the row is complete, end the file with a newline"

// Issue 10, item 4: a CSV file cut in the middle of its last line imported
// the cut value (155 for 155.44) with exit 0. The last line without its
// newline is now rejected, from a file and from standard input alike.
func TestImportCSVCutInItsLastLine(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	content := "type,instrument,price,currency,at\n" +
		"close,BABA,150.10,USD,2025-09-10\n" +
		"close,BABA,155" // 155.44, cut
	for _, source := range []string{"file", "stdin"} {
		t.Run(source, func(t *testing.T) {
			store := newStore(t)
			var r result
			if source == "file" {
				r = c.run(t, "import", writeFile(t, "closes.csv", content), "--store", store)
			} else {
				r = importStdin(t, c, content, "--store", store)
			}
			assert.Equal(t, refused, r.code)
			assert.Equal(t, "imported 1, skipped 0 duplicates, rejected 1\n", r.stdout)
			assert.Equal(t, "line 3: "+cutCSVReason+"\n", r.stderr)
			show := showJSON(t, c, store, "BABA", "--as-of", "2025-09-11")
			assert.Equal(t, "150.1", num(show["close"]), "the cut 155 was not imported")
		})
	}
	// The whole file, with its newline, imports both rows.
	store := newStore(t)
	r := c.ok(t, "import", writeFile(t, "closes.csv", strings.Replace(content, "155", "155.44,USD,2025-09-11\n", 1)), "--store", store)
	assert.Equal(t, "imported 2, skipped 0 duplicates, rejected 0\n", r.stdout)
	assert.Equal(t, "155.44", num(showJSON(t, c, store, "BABA", "--as-of", "2025-09-11")["close"]))
}

// A JSON Lines row cut short never parses; the reason says the file may
// have been cut off, and a complete last object without newline imports.
func TestImportJSONLinesCutInItsLastLine(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	whole := `{"type":"close","instrument":"BABA","price":"150.10","currency":"USD","at":"2025-09-10"}`
	cut := `{"type":"close","instrument":"BABA","price":155`
	store := newStore(t)
	r := importStdin(t, c, whole+"\n"+cut, "--store", store)
	assert.Equal(t, refused, r.code)
	assert.Equal(t, "line 2: is not valid JSON: unexpected end of JSON input (after byte 47); "+
		"it is the last line and has no newline at its end, so the file may have been cut off\n", r.stderr)
	r = c.ok(t, "import", writeFile(t, "one.jsonl", whole), "--store", newStore(t))
	assert.Equal(t, "imported 1, skipped 0 duplicates, rejected 0\n", r.stdout)
}

// Item 8: ".", ".." and "-2-3" were accepted but could never be named over
// HTTP. A symbol must start with a letter or digit, on every path.
func TestSymbolsStartWithALetterOrDigit(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	store := newStore(t)
	for _, sym := range []string{".", "..", "-2-3"} {
		r := c.run(t, "close", "--price", "1", "--currency", "USD", "--at", "2025-09-01", "--store", store, "--", sym)
		assert.Equal(t, refused, r.code, sym)
		assert.Equal(t, `consensus close: symbol "`+sym+`" must start with a letter or digit.`+"\n", r.stderr)
	}
	assertNoFile(t, store)
	file := writeFile(t, "rows.jsonl", `{"type":"close","instrument":"..","price":"1","currency":"USD","at":"2025-09-01"}`+"\n"+
		`{"type":"close","instrument":"-2-3","price":"1","currency":"USD","at":"2025-09-01"}`+"\n")
	r := c.run(t, "import", file, "--store", store)
	assert.Equal(t, refused, r.code)
	assert.Equal(t, "line 1: instrument \"..\" must start with a letter or digit\n"+
		"line 2: instrument \"-2-3\" must start with a letter or digit\n", r.stderr)
	assert.Equal(t, "imported 0, skipped 0 duplicates, rejected 2\n", r.stdout)
}

// Item 9: "rené" typed composed (NFC) and decomposed (NFD) counted as two
// analysts that print identically. Both are now one analyst, whether typed
// at the command line or imported.
func TestAnalystIDsAreNormalisedToNFC(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	store := newStore(t)
	nfc, nfd := "ren\u00e9@firm-a", "rene\u0301@firm-a"
	c.ok(t, "rate", "BABA", "--analyst", nfd, "--firm", "Soci\u0065\u0301t\u0065\u0301 G", "--rating", "buy", "--target", "170",
		"--currency", "USD", "--at", "2025-09-01", "--store", store)
	rating := func(analyst, firm string) string {
		return `{"type":"rating","instrument":"BABA","analyst":"` + analyst + `","firm":"` + firm +
			`","rating":"buy","target":"175","currency":"USD","at":"2025-09-03"}` + "\n"
	}
	file := writeFile(t, "rows.jsonl", rating(nfc, "Soci\u00e9t\u00e9 G")+rating(nfd, "Soci\u0065\u0301t\u0065\u0301 G")+
		`{"type":"target","instrument":"BABA","analyst":"`+nfd+`","target":"180","currency":"USD","at":"2025-09-04"}`+"\n")
	r := c.ok(t, "import", file, "--store", store)
	assert.Equal(t, "imported 2, skipped 1 duplicates, rejected 0\n", r.stdout, "the NFD rating row is the NFC one")
	show := showJSON(t, c, store, "BABA", "--as-of", "2025-09-30")
	assert.Equal(t, "1", num(show["analysts"]))
	assert.Equal(t, "180", num(show["mean_target"]))
	var log []map[string]any
	decodeJSON(t, c.ok(t, "log", "BABA", "--json", "--store", store).stdout, &log)
	for _, e := range log {
		data := e["data"].(map[string]any)
		assert.Equal(t, nfc, data["analyst"], "stored in NFC")
	}
	assert.Equal(t, "Soci\u00e9t\u00e9 G", log[0]["data"].(map[string]any)["firm"])
}

// Item 10: a retract row needs no instrument, and its derived id covers its
// reason: the same row again is a duplicate, another retraction of the
// event is refused in the command line's words.
func TestImportRetractionRows(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	store := newStore(t)
	id := strings.TrimSpace(c.ok(t, "rate", "BABA", "--analyst", "a@x", "--rating", "buy", "--target", "1650",
		"--currency", "USD", "--at", "2025-09-01", "--store", store).stdout)
	retract := writeFile(t, "retract.jsonl", `{"type":"retract","event_id":"`+id+`","reason":"typo: 165.0"}`+"\n")
	assert.Equal(t, "imported 1, skipped 0 duplicates, rejected 0\n", c.ok(t, "import", retract, "--store", store).stdout)
	assert.Equal(t, "imported 0, skipped 1 duplicates, rejected 0\n", c.ok(t, "import", retract, "--store", store).stdout,
		"the same row again is a duplicate")

	cli := c.run(t, "retract", id, "--reason", "another reason", "--store", store)
	require.Equal(t, refused, cli.code)
	refusal := strings.TrimSuffix(strings.TrimPrefix(cli.stderr, "consensus retract: "), ".\n")
	assert.Regexp(t, `^event_id "`+id+`" was already retracted by [0-9a-f-]{36}$`, refusal)
	other := writeFile(t, "other.csv", "type,event_id,reason\nretract,"+id+",another reason\n")
	r := c.run(t, "import", other, "--store", store)
	assert.Equal(t, refused, r.code)
	assert.Equal(t, "line 2: "+refusal+"\n", r.stderr, "refused as the command line refuses it")

	// Given, the instrument must be the retracted event's.
	wrong := writeFile(t, "wrong.jsonl", `{"type":"retract","instrument":"MSFT","event_id":"`+id+`","reason":"x"}`+"\n")
	r = c.run(t, "import", wrong, "--store", store)
	assert.Equal(t, refused, r.code)
	assert.Equal(t, `line 1: event_id "`+id+`" is not an event of MSFT`+"\n", r.stderr)
}

// Smaller item: a file whose USD row (line 1) is followed by an
// earlier-effective EUR row (line 2) made the instrument EUR and rejected
// line 1. The first row in the file's order fixes the currency.
func TestImportCurrencyIsTheFilesFirst(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	store := newStore(t)
	file := writeFile(t, "closes.jsonl",
		`{"type":"close","instrument":"BABA","price":"155.44","currency":"USD","at":"2025-09-11"}`+"\n"+
			`{"type":"close","instrument":"BABA","price":"140","currency":"EUR","at":"2025-09-01"}`+"\n")
	r := c.run(t, "import", file, "--store", store)
	assert.Equal(t, refused, r.code)
	assert.Equal(t, "imported 1, skipped 0 duplicates, rejected 1\n", r.stdout)
	assert.Equal(t, `line 2: currency "EUR" differs from BABA's currency USD`+"\n", r.stderr)
	assert.Equal(t, "USD", showJSON(t, c, store, "BABA", "--as-of", "2025-09-11")["currency"])
}

// Smaller item: "23:59:60Z", a leap second and valid RFC 3339, was refused
// as not RFC 3339. It is read as the last instant of its day; second 60 of
// any other minute is refused saying why.
func TestLeapSecond(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	store := newStore(t)
	c.ok(t, "close", "BABA", "--price", "100", "--currency", "USD", "--at", "2016-12-31T23:59:60Z", "--store", store)
	var log []map[string]any
	decodeJSON(t, c.ok(t, "log", "BABA", "--json", "--store", store).stdout, &log)
	require.Len(t, log, 1)
	assert.Equal(t, "2016-12-31T23:59:59.999999999Z", log[0]["effective_at"])

	r := c.run(t, "close", "BABA", "--price", "100", "--currency", "USD", "--at", "2016-12-31T12:00:60Z", "--store", store)
	assert.Equal(t, refused, r.code)
	assert.Equal(t, `consensus close: at "2016-12-31T12:00:60Z" has second 60, which only a leap second has, at the end of a UTC day (23:59:60Z).`+"\n", r.stderr)
	show := showJSON(t, c, store, "BABA", "--as-of", "2016-12-31T23:59:60Z")
	assert.Equal(t, "100", num(show["close"]), "--as-of reads it too")
}
