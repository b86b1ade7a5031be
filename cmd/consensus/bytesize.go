package main

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

// byteUnits are the units a size flag takes, matched without regard to
// case: binary (KiB = 1024 bytes) and decimal (kB = 1000 bytes), as
// operators write memory and disk sizes.
var byteUnits = []struct {
	name  string
	bytes int64
}{
	{"B", 1},
	{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"TiB", 1 << 40},
	{"kB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"TB", 1e12},
}

// errNotASize is why a size flag refuses its value; pflag names the flag
// and the value before it.
var errNotASize = errors.New("not a size in bytes such as 268435456, 256MiB or 1GiB")

// byteSize is a flag value holding a size in bytes, written as a whole
// number with an optional unit (byteUnits), such as 256MiB.
type byteSize int64

// parseByteSize reads a size: digits, then optionally a unit, nothing
// else. Anything it cannot read exactly (a sign, a fraction, a space, an
// unknown unit, more than math.MaxInt64 bytes) is errNotASize.
func parseByteSize(text string) (int64, error) {
	digits := strings.TrimRight(text, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
	unit := text[len(digits):]
	if digits == "" || strings.TrimLeft(digits, "0123456789") != "" {
		return 0, errNotASize
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, errNotASize
	}
	if unit == "" {
		return n, nil
	}
	for _, u := range byteUnits {
		if strings.EqualFold(unit, u.name) {
			if n > math.MaxInt64/u.bytes {
				return 0, errNotASize
			}
			return n * u.bytes, nil
		}
	}
	return 0, errNotASize
}

// formatByteSize writes a size with the largest binary unit that divides
// it exactly, as --help shows defaults: 268435456 is 256MiB.
func formatByteSize(n int64) string {
	for _, u := range []struct {
		name  string
		bytes int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n != 0 && n%u.bytes == 0 {
			return strconv.FormatInt(n/u.bytes, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10)
}

func (b *byteSize) Set(text string) error {
	n, err := parseByteSize(text)
	if err != nil {
		return err
	}
	*b = byteSize(n)
	return nil
}

func (b *byteSize) String() string { return formatByteSize(int64(*b)) }

func (b *byteSize) Type() string { return "SIZE" }

// explainsRefusal marks byteSize's Set errors as fit to show: they say what
// a size looks like without repeating the value (flagError).
func (b *byteSize) explainsRefusal() {}
