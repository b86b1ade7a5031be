package exposition_test

import (
	"bytes"
	"math"
	"runtime"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/common/expfmt"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sync/errgroup"

	"github.com/consensus-ledger/consensus/serve/exposition"
)

// promText is what promhttp answers for reg in the text format.
func promText(t *testing.T, reg *prometheus.Registry) string {
	t.Helper()
	fams, err := reg.Gather()
	require.NoError(t, err)
	var b bytes.Buffer
	enc := expfmt.NewEncoder(&b, expfmt.NewFormat(expfmt.TypeTextPlain))
	for _, f := range fams {
		require.NoError(t, enc.Encode(f))
	}
	return b.String()
}

func ourText(r *exposition.Registry) string {
	var b bytes.Buffer
	r.WriteText(&b)
	return b.String()
}

// The Prometheus client is the reference: the same metrics given the same
// updates must read byte for byte the same, so a scraper, a recording rule
// or a dashboard cannot tell the two apart.
func TestSameTextAsPrometheusClient(t *testing.T) {
	reg := prometheus.NewRegistry()
	ours := &exposition.Registry{}

	const help = "Requests, by route\\pattern and\ncode."
	pc := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "x_requests_total", Help: help}, []string{"route", "method", "code"})
	oc := ours.NewCounterVec(exposition.Opts{Name: "x_requests_total", Help: help}, "route", "method", "code")
	for _, s := range []struct {
		route, method, code string
		add                 float64
	}{
		{"/b", "GET", "200", 1}, {"/a", "GET", "200", 1}, {"/a", "POST", "201", 3},
		{"/a", "GET", "404", 1234567}, {`quote"back\slash`, "GET", "200", 0.5},
		{"new\nline", "GET", "500", 1}, {"é", "PUT", "200", 1e21}, {"", "GET", "200", 0},
		{"/a", "GET", "200", 2},
	} {
		pc.WithLabelValues(s.route, s.method, s.code).Add(s.add)
		oc.WithLabelValues(s.route, s.method, s.code).Add(s.add)
	}

	pg := prometheus.NewGauge(prometheus.GaugeOpts{Name: "x_clients", Help: "Clients."})
	og := ours.NewGauge(exposition.Opts{Name: "x_clients", Help: "Clients."})
	for _, up := range []bool{true, true, false, false, false} {
		if up {
			pg.Inc()
			og.Inc()
		} else {
			pg.Dec()
			og.Dec()
		}
	}

	for i, v := range []float64{math.Inf(1), math.NaN(), math.Copysign(0, -1), 1e-7, 0.1, 2097152, -1, 1} {
		name := "x_read_" + string(rune('a'+i))
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: "A value."}, func() float64 { return v }))
		ours.NewGaugeFunc(exposition.Opts{Name: name, Help: "A value."}, func() float64 { return v })
	}
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "x_evictions_total", Help: "Evictions."}, func() float64 { return 42 }))
	ours.NewCounterFunc(exposition.Opts{Name: "x_evictions_total", Help: "Evictions."}, func() float64 { return 42 })

	bounds := []float64{0.0001, 0.00025, 0.001, 0.5, 1, 30}
	ph := prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "x_duration_seconds", Help: "Durations.", Buckets: bounds}, []string{"route"})
	oh := ours.NewHistogramVec(exposition.Opts{Name: "x_duration_seconds", Help: "Durations."}, bounds, "route")
	for _, o := range []struct {
		route string
		v     float64
	}{
		{"/z", 0.00005}, {"/z", 0.0001}, {"/z", 0.00026}, {"/a", 1}, {"/a", 31}, {"/a", 0.3}, {"/z", 0.1 + 0.2}, {"/z", 1e-9},
	} {
		ph.WithLabelValues(o.route).Observe(o.v)
		oh.WithLabelValues(o.route).Observe(o.v)
	}
	// Declared but never used: the family is left out, help and all.
	pe := prometheus.NewCounterVec(prometheus.CounterOpts{Name: "x_unused_total", Help: "Nothing."}, []string{"via"})
	ours.NewCounterVec(exposition.Opts{Name: "x_unused_total", Help: "Nothing."}, "via")
	reg.MustRegister(pc, pg, ph, pe)

	want := promText(t, reg)
	require.Contains(t, want, `x_duration_seconds_bucket{route="/z",le="+Inf"} 5`, "the reference covers the +Inf bucket")
	assert.Equal(t, want, ourText(ours))
}

// seriesKeys are the HELP and TYPE lines and each series' name and label
// names of a text exposition, without values.
func seriesKeys(text string) []string {
	var keys []string
	for line := range strings.Lines(text) {
		if !strings.HasPrefix(line, "#") {
			name, labels, _ := strings.Cut(strings.Fields(line)[0], "{")
			var names []string
			for pair := range strings.SplitSeq(strings.TrimSuffix(labels, "}"), ",") {
				n, _, _ := strings.Cut(pair, "=")
				names = append(names, n)
			}
			line = name + "{" + strings.Join(names, ",") + "}"
		}
		keys = append(keys, strings.TrimSuffix(line, "\n"))
	}
	return keys
}

// sampleValues maps each series line to its value text.
func sampleValues(text string) map[string]string {
	m := map[string]string{}
	for line := range strings.Lines(text) {
		if f := strings.Fields(line); len(f) == 2 {
			m[f[0]] = f[1]
		}
	}
	return m
}

// The Go runtime's and the process's series are those of the client's
// default collectors: the same names, help, types and labels, and the same
// values where they do not change from one read to the next.
func TestSameRuntimeSeriesAsPrometheusClient(t *testing.T) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	ours := &exposition.Registry{}
	ours.RegisterGo()
	ours.RegisterProcess()

	want, got := promText(t, reg), ourText(ours)
	assert.Equal(t, seriesKeys(want), seriesKeys(got))
	wv, gv := sampleValues(want), sampleValues(got)
	for _, steady := range []string{
		`go_info{version="` + runtime.Version() + `"}`,
		"go_gc_gogc_percent", "go_gc_gomemlimit_bytes", "go_sched_gomaxprocs_threads",
		"process_max_fds", "process_virtual_memory_max_bytes", "process_start_time_seconds",
	} {
		assert.Equal(t, wv[steady], gv[steady], steady)
	}
}

// Requests are counted from many goroutines while Prometheus scrapes: no
// update may be lost, and a histogram's count always equals its +Inf
// bucket.
func TestConcurrentUpdatesAreAllCounted(t *testing.T) {
	r := &exposition.Registry{}
	c := r.NewCounterVec(exposition.Opts{Name: "x_total", Help: "Counted."}, "route")
	h := r.NewHistogramVec(exposition.Opts{Name: "x_seconds", Help: "Timed."}, []float64{0.5}, "route")
	var g errgroup.Group
	for w := range 8 {
		g.Go(func() error {
			route := []string{"/a", "/b"}[w%2]
			for i := range 500 {
				c.WithLabelValues(route).Inc()
				h.WithLabelValues(route).Observe(float64(i % 2))
			}
			return nil
		})
	}
	g.Go(func() error {
		for range 50 {
			text := ourText(r)
			for _, route := range []string{"/a", "/b"} {
				v := sampleValues(text)
				assert.Equal(t, v[`x_seconds_count{route="`+route+`"}`], v[`x_seconds_bucket{route="`+route+`",le="+Inf"}`])
			}
		}
		return nil
	})
	require.NoError(t, g.Wait())
	v := sampleValues(ourText(r))
	for _, route := range []string{"/a", "/b"} {
		assert.Equal(t, "2000", v[`x_total{route="`+route+`"}`])
		assert.Equal(t, "2000", v[`x_seconds_count{route="`+route+`"}`])
		assert.Equal(t, "1000", v[`x_seconds_bucket{route="`+route+`",le="0.5"}`])
		assert.Equal(t, "1000", v[`x_seconds_sum{route="`+route+`"}`])
	}
}
