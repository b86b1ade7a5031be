package test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestShowAll(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	store := demoStore(t, c)

	rows := array(t, c.ok(t, "show", "--all", "--as-of", "2025-09-11", "--json", "--store", store).stdout)
	require.Len(t, rows, 2)
	assert.Equal(t, "9988.HK", rows[0]["instrument"], "ordered by symbol")
	assert.Equal(t, "HKD", rows[0]["currency"])
	assert.Equal(t, "BABA", rows[1]["instrument"])
	assertFigures(t, rows[1], figures{"analysts": "18", "buy": "17", "hold": "1", "mean_target": "165.69", "close": "155.44", "upside_pct": "6.59"})
	assert.Equal(t, showJSON(t, c, store, "BABA", "--as-of", "2025-09-11")["mean_target"], rows[1]["mean_target"])

	csv := c.ok(t, "show", "--all", "--as-of", "2025-09-12", "--csv", "--store", store).stdout
	lines := strings.Split(strings.TrimSpace(csv), "\n")
	require.Len(t, lines, 3, "a header and one row per instrument")
	assert.True(t, strings.HasPrefix(lines[0], "instrument,currency,as_of,"))
	assert.Contains(t, lines[2], "BABA,USD,2025-09-12T23:59:59.999999999Z,18,17,1,0,")
	assert.Contains(t, lines[2], ",152.98,")

	assert.Equal(t, usage, c.run(t, "show", "--all", "BABA", "--store", store).code)
	assert.Equal(t, usage, c.run(t, "show", "--all", "--explain", "--store", store).code)
	assert.Equal(t, usage, c.run(t, "show", "BABA", "--csv", "--store", store).code)
}
