package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// demoEnv loads the demo into a new store and returns its environment.
func demoEnv(t *testing.T) map[string]string {
	t.Helper()
	env := map[string]string{"CONSENSUS_STORE": filepath.Join(t.TempDir(), "demo.db")}
	code, _, errOut := runApp(t, env, "demo")
	require.Equal(t, exitOK, code, errOut)
	return env
}

// meridian is the worked example of issue 14: the demo's Meridian Capital
// as of Friday 12 September 2025, known a day after the demo was loaded.
var meridian = []string{"disclosures", "--firm", "Meridian Capital", "--as-of", "2025-09-12", "--known-at", "2026-11-25"}

// TestDisclosuresWorkedExample: Meridian Capital's rating of 20 June
// (outperform, 150, the close of that day 112.60) and its revision of
// 1 September (175, published on a day without a close: the close of
// Friday 29 August, 135.00), both against Friday's close 152.98; one
// instrument held, a buy: 100.00 %.
func TestDisclosuresWorkedExample(t *testing.T) {
	env := demoEnv(t)
	code, out, errOut := runApp(t, env, append(meridian, "--json")...)
	require.Equal(t, exitOK, code, errOut)
	var rep struct {
		Firm         string `json:"firm"`
		Months       int    `json:"months"`
		From         string `json:"from"`
		WindowDays   *int   `json:"window_days"`
		Distribution struct {
			Instruments, Buy, Hold, Sell int
			BuyPct                       json.RawMessage `json:"buy_pct"`
			HoldPct                      json.RawMessage `json:"hold_pct"`
			SellPct                      json.RawMessage `json:"sell_pct"`
		} `json:"distribution"`
		Recommendations []map[string]json.RawMessage `json:"recommendations"`
		Heads           []struct {
			Stream  string `json:"stream"`
			Version int64  `json:"version"`
		} `json:"chain_heads"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &rep))
	assert.Equal(t, "Meridian Capital", rep.Firm)
	assert.Equal(t, 12, rep.Months)
	assert.Equal(t, "2024-09-12T23:59:59.999999999Z", rep.From)
	assert.Nil(t, rep.WindowDays)
	d := rep.Distribution
	assert.Equal(t, []int{1, 1, 0, 0}, []int{d.Instruments, d.Buy, d.Hold, d.Sell})
	assert.Equal(t, []string{"100.00", "0.00", "0.00"}, []string{string(d.BuyPct), string(d.HoldPct), string(d.SellPct)})
	require.Len(t, rep.Recommendations, 2)
	want := []map[string]string{
		{"effective_at": `"2025-06-20T23:59:59.999999999Z"`, "instrument": `"BABA"`, "analyst": `"j.ortiz@meridian"`,
			"type": `"RatingAdded"`, "rating": `"buy"`, "broker_rating": `"outperform"`, "rating_action": `"initiation"`,
			"target": `150`, "currency": `"USD"`, "target_action": `"set"`,
			"close_at_publication": `112.6`, "close_at_publication_at": `"2025-06-20T23:59:59.999999999Z"`,
			"close_as_of": `152.98`, "close_as_of_at": `"2025-09-12T23:59:59.999999999Z"`},
		{"effective_at": `"2025-09-01T23:59:59.999999999Z"`, "instrument": `"BABA"`, "analyst": `"j.ortiz@meridian"`,
			"type": `"TargetRevised"`, "rating": `null`, "broker_rating": `null`, "rating_action": `null`,
			"target": `175`, "currency": `"USD"`, "target_action": `"raised"`,
			"close_at_publication": `135`, "close_at_publication_at": `"2025-08-29T23:59:59.999999999Z"`,
			"close_as_of": `152.98`, "close_as_of_at": `"2025-09-12T23:59:59.999999999Z"`},
	}
	for i, w := range want {
		for field, value := range w {
			assert.Equal(t, value, string(rep.Recommendations[i][field]), "recommendation %d %s", i, field)
		}
	}
	require.Len(t, rep.Heads, 1)
	assert.Equal(t, "instrument-BABA", rep.Heads[0].Stream)

	code, out, errOut = runApp(t, env, "firms", "--json")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, `"firm": "Meridian Capital",`+"\n"+`    "instruments": 1`)
	assert.Contains(t, out, `"firm": "Alpenbank Equities",`+"\n"+`    "instruments": 2`)
}

// TestDisclosuresReproducible: the same arguments write the same bytes,
// JSON, CSV, SVG, PNG and PDF alike; the PDF's dates are --known-at's.
func TestDisclosuresReproducible(t *testing.T) {
	env := demoEnv(t)
	outputs := func(dir string) map[string][]byte {
		got := map[string][]byte{}
		for _, format := range []string{"--json", "--csv"} {
			code, out, errOut := runApp(t, env, append(meridian, format)...)
			require.Equal(t, exitOK, code, errOut)
			got[format] = []byte(out)
		}
		code, _, errOut := runApp(t, env, append(meridian, "--pdf", filepath.Join(dir, "r.pdf"), "--charts", filepath.Join(dir, "charts"))...)
		require.Equal(t, exitOK, code, errOut)
		for _, name := range []string{"r.pdf", "charts/BABA.svg", "charts/BABA.png"} {
			b, err := os.ReadFile(filepath.Join(dir, name))
			require.NoError(t, err)
			got[name] = b
		}
		return got
	}
	first, second := outputs(t.TempDir()), outputs(t.TempDir())
	for name, b := range first {
		assert.True(t, bytes.Equal(b, second[name]), "%s differs between two runs", name)
		assert.NotEmpty(t, b, name)
	}
	assert.Contains(t, string(first["r.pdf"]), "/CreationDate (D:20261125235959")
	assert.Contains(t, string(first["--csv"]), "recommendation,2025-09-01T23:59:59.999999999Z,BABA,j.ortiz@meridian,")
	assert.Contains(t, string(first["--csv"]), "distribution,,,,,,,,,,,,,,,,buy,1,100.00\n")
}

// TestDisclosuresPDFReads converts the PDF back to text with poppler's
// pdftotext, a real reader, and finds the report in it. Without pdftotext
// it skips, except in CI (CI set), where .ci/run installs it.
func TestDisclosuresPDFReads(t *testing.T) {
	tool, err := exec.LookPath("pdftotext")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftotext is missing in CI: .ci/run installs poppler-utils")
		}
		t.Skip("pdftotext is not installed (apt-get install -y poppler-utils); CI runs this test")
	}
	env := demoEnv(t)
	pdf := filepath.Join(t.TempDir(), "r.pdf")
	code, _, errOut := runApp(t, env, append(meridian, "--pdf", pdf)...)
	require.Equal(t, exitOK, code, errOut)
	text, err := exec.Command(tool, "-layout", pdf, "-").Output()
	require.NoError(t, err)
	for _, want := range []string{
		"Research disclosures", "Meridian Capital", "2025-09-12T23:59:59.999999999Z", "2026-11-25T23:59:59.999999999Z",
		"instrument-BABA", "100.00", "j.ortiz@meridian", "buy (outperform)", "initiation", "150 USD", "112.6", "175 USD",
		"raised", "135", "152.98", "BABA: price chart", "2025-06-20 buy 150", "2025-09-01 buy 175",
	} {
		assert.Contains(t, string(text), want)
	}
	if ppm, err := exec.LookPath("pdftoppm"); err == nil {
		prefix := filepath.Join(t.TempDir(), "page")
		require.NoError(t, exec.Command(ppm, "-r", "30", "-png", pdf, prefix).Run(), "pdftoppm renders every page")
		pages, _ := filepath.Glob(prefix + "*.png")
		assert.Len(t, pages, 4, "title, distribution, recommendations, one chart")
	}
}

// TestDisclosuresBadInput: each refusal is one sentence naming the field
// and value, with its exit status, and writes nothing.
func TestDisclosuresBadInput(t *testing.T) {
	env := demoEnv(t)
	dir := t.TempDir()
	pdf := filepath.Join(dir, "r.pdf")

	code, _, errOut := runApp(t, env, "disclosures", "--firm", "Meridian Capitol", "--as-of", "2025-09-12", "--pdf", pdf)
	assert.Equal(t, 1, code)
	assert.Equal(t, "consensus disclosures: firm \"Meridian Capitol\" is named by no rating; the closest known: \"Meridian Capital\".\n", errOut)
	assert.NoFileExists(t, pdf)

	for _, months := range []string{"0", "121"} {
		code, _, errOut = runApp(t, env, "disclosures", "--firm", "Meridian Capital", "--months", months)
		assert.Equal(t, 1, code, months)
		assert.Contains(t, errOut, "months \""+months+"\" must be a whole number of months from 1 to 120", months)
	}
	code, _, errOut = runApp(t, env, "disclosures")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "missing required flag --firm")

	require.NoError(t, os.WriteFile(pdf, []byte("keep"), 0o644))
	code, _, errOut = runApp(t, env, append(meridian, "--pdf", pdf)...)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "--pdf "+pdf)
	assert.Contains(t, errOut, "--force")
	kept, _ := os.ReadFile(pdf)
	assert.Equal(t, "keep", string(kept))

	charts := filepath.Join(dir, "charts")
	require.NoError(t, os.Mkdir(charts, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(charts, "BABA.png"), []byte("keep"), 0o644))
	code, _, errOut = runApp(t, env, append(meridian, "--charts", charts)...)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "--charts "+filepath.Join(charts, "BABA.png"))
	assert.NoFileExists(t, filepath.Join(charts, "BABA.svg"), "a refusal writes nothing")

	code, _, errOut = runApp(t, env, append(meridian, "--charts", charts, "--pdf", pdf, "--force")...)
	require.Equal(t, exitOK, code, errOut)
	kept, _ = os.ReadFile(pdf)
	assert.Equal(t, "%PDF-1.", string(kept[:7]))
}
