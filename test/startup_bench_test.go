package test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
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

// TestStartupInitsNoMetricsClient keeps the Prometheus client out of the
// binary (issue 17): its package init (a default registry with Go and
// process collectors, procfs, protobuf descriptors, expvar) ran on every
// command, a few milliseconds of each `consensus show`, for the /metrics
// endpoint that serve/exposition now writes. The runtime's own init trace
// names every package initialised.
func TestStartupInitsNoMetricsClient(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	cmd, stdout, stderr := c.command("help")
	cmd.Env = append(cmd.Env, "GODEBUG=inittrace=1")
	require.NoError(t, cmd.Run(), "consensus help: %s", stderr)
	require.Contains(t, stdout.String(), "Usage: consensus COMMAND")
	var inits int
	for line := range strings.Lines(stderr.String()) {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "init" {
			continue
		}
		inits++
		for _, heavy := range []string{"github.com/prometheus/", "expvar"} {
			assert.False(t, strings.HasPrefix(f[1], heavy), "package %s is initialised at every start", f[1])
		}
	}
	require.Greater(t, inits, 50, "the init trace lists the packages:\n%s", stderr)
}
