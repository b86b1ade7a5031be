package test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// BenchmarkStartup measures whole consensus processes, start to exit, as a
// user's shell runs them (issue 17): `help`, which is little more than the
// binary starting (the runtime and every linked package's init), and `show`
// on the small demo store, which adds opening SQLite and one fold. Besides
// the wall time (ns/op) it reports the CPU time the child used (user+sys),
// which follows the load of a shared machine far less than wall time does;
// compare binaries by that and by the minimum of several -count runs.
//
//	go test ./test -run '^$' -bench Startup -count 5
func BenchmarkStartup(b *testing.B) {
	c := newCLI(b)
	store := demoStore(b, c)
	for _, bc := range []struct {
		name string
		args []string
		want string
	}{
		{"help", []string{"help"}, "Usage: consensus COMMAND"},
		{"show", []string{"show", "BABA", "--as-of", "2025-09-11", "--store", store}, "BABA (USD)"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			var cpu time.Duration
			for b.Loop() {
				cmd, stdout, stderr := c.command(bc.args...)
				require.NoError(b, cmd.Run(), "consensus %s: %s", strings.Join(bc.args, " "), stderr)
				// Checked on every run, so a binary that fails fast is
				// never reported as one that starts fast.
				require.Contains(b, stdout.String(), bc.want)
				cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
			}
			b.ReportMetric(float64(cpu.Microseconds())/1e3/float64(b.N), "cpu-ms/op")
		})
	}
}
