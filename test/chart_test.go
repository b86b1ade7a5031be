package test

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestChartFiles(t *testing.T) {
	skipShort(t, "over 2 s (3 s in a full run on the loaded 2-core machine)")
	t.Parallel()
	c := newCLI(t)
	store := demoStore(t, c)
	dir := t.TempDir()

	svg := filepath.Join(dir, "baba.svg")
	c.ok(t, "chart", "BABA", "--from", "2025-06-01", "--to", "2025-09-11", "-o", svg, "--store", store)
	b, err := os.ReadFile(svg)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(b), "<svg "))
	assert.Contains(t, string(b), "BABA analyst consensus (USD), 2025-06-01 to 2025-09-11")
	assert.Contains(t, string(b), "mean target 165.69 USD")

	pngFile := filepath.Join(dir, "baba.PNG")
	c.ok(t, "chart", "baba", "--from", "2025-01-01", "--to", "2025-09-12", "--every", "week", "-o", pngFile,
		"--width", "800", "--height", "500", "--store", store)
	f, err := os.Open(pngFile)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	assert.Equal(t, 1600, img.Bounds().Dx(), "drawn at twice the size, for print")
	assert.Equal(t, 1000, img.Bounds().Dy())
	st, err := os.Stat(pngFile)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o644), st.Mode().Perm())
	assert.ElementsMatch(t, []string{"baba.svg", "baba.PNG"}, dirEntries(t, dir), "no temporary file left")

	for _, bad := range [][]string{
		{"chart", "BABA", "--from", "2025-06-01", "--to", "2025-09-11", "-o", filepath.Join(dir, "x.gif")},
		{"chart", "BABA", "--to", "2025-09-11", "-o", filepath.Join(dir, "x.svg")},
		{"chart", "BABA", "--from", "2025-06-01", "--to", "2025-09-11"},
		{"chart", "--from", "2025-06-01", "--to", "2025-09-11", "-o", filepath.Join(dir, "x.svg")},
		{"chart", "BABA", "--from", "2025-06-01", "--to", "2025-09-11", "-o", filepath.Join(dir, "x.svg"), "--width", "5"},
	} {
		r := c.run(t, append(bad, "--store", store)...)
		assert.Equal(t, usage, r.code, "%v", bad)
		assertOneCleanLine(t, r.stderr)
	}
	for _, bad := range [][]string{
		{"chart", "NOPE", "--from", "2025-06-01", "--to", "2025-09-11", "-o", filepath.Join(dir, "x.svg")},
		{"chart", "BABA", "--from", "2025-09-11", "--to", "2025-06-01", "-o", filepath.Join(dir, "x.svg")},
		{"chart", "BABA", "--from", "2025-06-01", "--to", "2025-09-11", "--every", "year", "-o", filepath.Join(dir, "x.svg")},
		{"chart", "BABA", "--from", "2025-06-01", "--to", "2025-09-11", "-o", filepath.Join(dir, "missing", "x.svg")},
	} {
		r := c.run(t, append(bad, "--store", store)...)
		assert.Equal(t, refused, r.code, "%v", bad)
		assertOneCleanLine(t, r.stderr)
	}
	assert.ElementsMatch(t, []string{"baba.svg", "baba.PNG"}, dirEntries(t, dir), "a refused chart writes nothing")
}

// TestChartBounds: a PNG larger than the raster bound, or a chart of more
// points than pixels, is refused with one sentence naming the flag and
// value, and writes nothing; the largest sizes allowed are drawn.
func TestChartBounds(t *testing.T) {
	skipShort(t, "over 2 s (8 s in a full run on the loaded 2-core machine)")
	t.Parallel()
	c := newCLI(t)
	store := demoStore(t, c)
	dir := t.TempDir()
	chartArgs := func(out string, flags ...string) []string {
		return append([]string{"chart", "BABA", "--from", "2025-06-01", "--to", "2025-09-11", "-o", filepath.Join(dir, out), "--store", store}, flags...)
	}

	r := c.run(t, chartArgs("big.png", "--width", "2001")...)
	assert.Equal(t, usage, r.code)
	assert.Equal(t, "consensus chart: --width 2001 is out of range: a PNG chart (drawn at twice its size) takes 200 to 2000 pixels; "+
		"run 'consensus help chart' for usage.\n", r.stderr)
	r = c.run(t, chartArgs("big.svg", "--height", "4001")...)
	assert.Equal(t, usage, r.code)
	assert.Equal(t, "consensus chart: --height 4001 is out of range: a chart takes 200 to 4000 pixels; run 'consensus help chart' for usage.\n", r.stderr)
	r = c.run(t, "chart", "BABA", "--from", "2000-01-01", "--to", "2025-09-11", "--every", "day", "-o", filepath.Join(dir, "long.svg"), "--store", store)
	assert.Equal(t, refused, r.code)
	assert.Equal(t, "consensus chart: --every day from 2000-01-01 to 2025-09-11 draws more than 4000 points; use a longer --every or a shorter range.\n", r.stderr)
	assert.Empty(t, dirEntries(t, dir), "a refused chart writes nothing")

	c.ok(t, chartArgs("largest.svg", "--width", "4000", "--height", "4000")...)
	c.ok(t, chartArgs("largest.png", "--width", "2000", "--height", "2000")...)
	f, err := os.Open(filepath.Join(dir, "largest.png"))
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	assert.Equal(t, 4000, img.Bounds().Dx())
}
