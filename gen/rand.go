package gen

import "math/bits"

// rng is a SplitMix64 generator. The generator uses its own rather than
// math/rand so that the output stays byte-identical across Go releases and
// platforms: every draw is integer arithmetic, with no floating point whose
// rounding (or fused multiply-add) could differ between machines.
type rng struct{ s uint64 }

// mix derives a well-spread 64-bit value from a seed and a list of tags, so
// each entity (instrument, analyst, firm) gets its own independent stream.
func mix(seed uint64, tags ...uint64) uint64 {
	r := rng{s: seed}
	v := r.next()
	for _, t := range tags {
		r.s ^= t + 0x632be59bd9b4e019
		v = r.next()
	}
	return v
}

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// intn returns a uniform value in [0, n); n must be positive.
func (r *rng) intn(n int) int {
	hi, _ := bits.Mul64(r.next(), uint64(n))
	return int(hi)
}

// between returns a uniform value in [lo, hi].
func (r *rng) between(lo, hi int) int { return lo + r.intn(hi-lo+1) }

// chance reports true with probability perMillion / 1,000,000.
func (r *rng) chance(perMillion int) bool { return r.intn(1_000_000) < perMillion }

// normal returns an approximately standard normal draw scaled by 1,000,000:
// the sum of four 16-bit uniforms from one 64-bit draw, centred and scaled to
// unit variance (its tails stop near 3.46 standard deviations; the price walk
// adds earnings-day jumps for fat tails).
func (r *rng) normal() int64 {
	v := r.next()
	sum := int64(v&0xffff) + int64(v>>16&0xffff) + int64(v>>32&0xffff) + int64(v>>48)
	// Mean 4 * 65535/2, standard deviation sqrt(4 * (65536^2 - 1) / 12).
	return (sum - 131070) * 1_000_000 / 37837
}
