package projections_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/projections"
)

// FuzzParseDecimal checks that every accepted decimal prints canonically and
// survives a JSON round trip digit for digit.
func FuzzParseDecimal(f *testing.F) {
	for _, s := range []string{"165.69", "-3.1", "0", "007.500", "-0", "1e3", "", ".5", "12345678901234567890.123"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		d, err := projections.ParseDecimal(text)
		if err != nil {
			return
		}
		again, err := projections.ParseDecimal(d.String())
		require.NoError(t, err)
		assert.Equal(t, d, again, "canonical text parses to itself")
		b, err := json.Marshal(d)
		require.NoError(t, err)
		var back projections.Decimal
		require.NoError(t, json.Unmarshal(b, &back))
		assert.Equal(t, d, back)
	})
}

// FuzzParseWindow checks the window parser never panics and accepts only
// whole days from 0 to MaxWindowDays.
func FuzzParseWindow(f *testing.F) {
	for _, s := range []string{"90d", "0d", "36500d", "36501d", "-1d", "1.5d", "d", "90", "9999999999999999999d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		w, err := projections.ParseWindow(text)
		if err != nil {
			var v *domain.ValidationError
			require.ErrorAs(t, err, &v)
			assert.Equal(t, "window", v.Field)
			return
		}
		assert.True(t, strings.HasSuffix(text, "d"))
		assert.GreaterOrEqual(t, w, time.Duration(0))
		assert.LessOrEqual(t, w, projections.MaxWindowDays*24*time.Hour)
		assert.Zero(t, w%(24*time.Hour), "whole days only")
	})
}
