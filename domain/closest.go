package domain

import (
	"cmp"
	"slices"
	"strings"
)

// Closest returns up to n of candidates nearest to want, for a "did you
// mean" when a name is not found: ordered by edit distance (Levenshtein,
// over runes, case-insensitive), ties by the candidate itself, and only
// those within half of want's length, so a suggestion resembles what was
// typed.
func Closest(want string, candidates []string, n int) []string {
	w := []rune(strings.ToLower(want))
	limit := max(2, len(w)/2)
	type hit struct {
		s string
		d int
	}
	var hits []hit
	row := make([]int, 0, 64)
	for _, c := range candidates {
		if d := editDistance(w, []rune(strings.ToLower(c)), &row); d <= limit {
			hits = append(hits, hit{c, d})
		}
	}
	slices.SortFunc(hits, func(a, b hit) int {
		if c := cmp.Compare(a.d, b.d); c != 0 {
			return c
		}
		return strings.Compare(a.s, b.s)
	})
	out := make([]string, 0, min(n, len(hits)))
	for _, h := range hits[:min(n, len(hits))] {
		out = append(out, h.s)
	}
	return out
}

// editDistance is the Levenshtein distance of a and b, in one row of
// storage that row provides.
func editDistance(a, b []rune, row *[]int) int {
	r := (*row)[:0]
	for j := 0; j <= len(b); j++ {
		r = append(r, j)
	}
	for i := 1; i <= len(a); i++ {
		diag := r[0]
		r[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			next := min(r[j]+1, r[j-1]+1, diag+cost)
			diag, r[j] = r[j], next
		}
	}
	*row = r
	return r[len(b)]
}
