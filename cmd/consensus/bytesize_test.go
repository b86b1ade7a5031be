package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseByteSize(t *testing.T) {
	for text, want := range map[string]int64{
		"0": 0, "1": 1, "268435456": 268435456, "256MiB": 256 << 20, "256mib": 256 << 20, "1GiB": 1 << 30,
		"64KiB": 64 << 10, "2TiB": 2 << 40, "500MB": 500e6, "1kB": 1000, "10B": 10, "007MiB": 7 << 20,
		"9223372036854775807": 9223372036854775807, "8388607TiB": 8388607 << 40,
	} {
		got, err := parseByteSize(text)
		require.NoError(t, err, text)
		assert.Equal(t, want, got, text)
	}
	for _, bad := range []string{"", "MiB", "-1", "+1", "1.5GiB", "1 GiB", " 1", "1e9", "256M", "256Mb ", "12XB",
		"9223372036854775808", "8388608TiB", "0x10", "1_000", "１MiB"} {
		_, err := parseByteSize(bad)
		assert.ErrorIs(t, err, errNotASize, "%q", bad)
	}
	assert.Equal(t, "256MiB", formatByteSize(256<<20))
	assert.Equal(t, "1000", formatByteSize(1000))
	assert.Equal(t, "0", formatByteSize(0))
}

// FuzzParseByteSize: any text is either refused or read as a size that
// formats back to the same number of bytes.
func FuzzParseByteSize(f *testing.F) {
	for _, seed := range []string{"256MiB", "1GiB", "0", "12XB", "9223372036854775807", "8388608TiB", "1.5GB", "-1"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, text string) {
		n, err := parseByteSize(text)
		if err != nil {
			return
		}
		if n < 0 {
			t.Fatalf("%q read as negative %d", text, n)
		}
		back, err := parseByteSize(formatByteSize(n))
		if err != nil || back != n {
			t.Fatalf("%q read as %d, formatted as %q, read back as %d (%v)", text, n, formatByteSize(n), back, err)
		}
	})
}
