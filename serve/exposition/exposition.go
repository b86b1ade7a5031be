// Package exposition keeps a server's metrics and writes them in
// Prometheus's text exposition format (version 0.0.4), line for line as
// github.com/prometheus/client_golang's registry and promhttp write the same
// series: families sorted by name, each one's series by their label values,
// labels by name, numbers as expfmt formats them, and families without a
// series left out.
//
// It exists so that the consensus binary need not link that client: its
// package init (default registry, Go and process collectors, procfs,
// protobuf descriptors, expvar) ran on every command, a few milliseconds of
// every `consensus show` (issue 17), for an endpoint only `serve` has. The
// few kinds the server uses are all it offers: counters, gauges, histograms,
// values read at each scrape, and the Go runtime's and the process's own
// series (runtime.go).
package exposition

import (
	"bytes"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// ContentType is the header of the text format, as promhttp sends it.
const ContentType = "text/plain; version=0.0.4; charset=utf-8; escaping=underscores"

// Registry holds what one server exposes. Each server has its own, so tests
// can run many servers in one process.
type Registry struct {
	mu         sync.Mutex
	collectors []func(add func(family))
}

// family is one metric name with its samples at one scrape.
type family struct {
	name, help, typ string
	series          []series
}

// series is one set of label values of a family: a value for counters and
// gauges, buckets (or quantiles) with a sum and a count for histograms and
// summaries.
type series struct {
	labels  []string // name, value, name, value, ... sorted by name
	value   float64
	buckets []bucket
	sum     float64
	count   uint64
}

// bucket is a histogram's upper bound and cumulative count, or a summary's
// quantile and value.
type bucket struct{ bound, value float64 }

func (r *Registry) register(c func(add func(family))) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.collectors = append(r.collectors, c)
}

// WriteText writes every family in the text format.
func (r *Registry) WriteText(b *bytes.Buffer) {
	r.mu.Lock()
	collectors := slices.Clone(r.collectors)
	r.mu.Unlock()
	var fams []family
	for _, c := range collectors {
		c(func(f family) { fams = append(fams, f) })
	}
	slices.SortStableFunc(fams, func(a, b family) int { return strings.Compare(a.name, b.name) })
	for _, f := range fams {
		if len(f.series) == 0 {
			continue // promhttp leaves out a family with no series, help and all
		}
		slices.SortStableFunc(f.series, func(a, b series) int { return compareLabelValues(a.labels, b.labels) })
		b.WriteString("# HELP " + f.name + " ")
		helpEscaper.WriteString(b, f.help)
		b.WriteString("\n# TYPE " + f.name + " " + f.typ + "\n")
		for _, s := range f.series {
			switch f.typ {
			case "histogram", "summary":
				extra := "le"
				if f.typ == "summary" {
					extra = "quantile"
				}
				suffix := ""
				if f.typ == "histogram" {
					suffix = "_bucket"
				}
				for _, bk := range s.buckets {
					writeSample(b, f.name+suffix, s.labels, extra, bk.bound, bk.value)
				}
				if f.typ == "histogram" {
					writeSample(b, f.name+suffix, s.labels, extra, math.Inf(1), float64(s.count))
				}
				writeSample(b, f.name+"_sum", s.labels, "", 0, s.sum)
				writeSample(b, f.name+"_count", s.labels, "", 0, float64(s.count))
			default:
				writeSample(b, f.name, s.labels, "", 0, s.value)
			}
		}
	}
}

// compareLabelValues orders series as client_golang does: fewer labels
// first, then by each value in label-name order.
func compareLabelValues(a, b []string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	for i := 1; i < len(a); i += 2 {
		if c := strings.Compare(a[i], b[i]); c != 0 {
			return c
		}
	}
	return 0
}

var (
	helpEscaper  = strings.NewReplacer(`\`, `\\`, "\n", `\n`)
	valueEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
)

// writeSample writes one line: the name, the labels with an extra one (le
// or quantile) last, and the value.
func writeSample(b *bytes.Buffer, name string, labels []string, extra string, extraValue, value float64) {
	b.WriteString(name)
	if len(labels) > 0 || extra != "" {
		sep := byte('{')
		for i := 0; i < len(labels); i += 2 {
			b.WriteByte(sep)
			b.WriteString(labels[i] + `="`)
			valueEscaper.WriteString(b, labels[i+1])
			b.WriteByte('"')
			sep = ','
		}
		if extra != "" {
			b.WriteByte(sep)
			b.WriteString(extra + `="`)
			writeFloat(b, extraValue)
			b.WriteByte('"')
		}
		b.WriteByte('}')
	}
	b.WriteByte(' ')
	writeFloat(b, value)
	b.WriteByte('\n')
}

// writeFloat formats a number as expfmt does: the shortest 'g' form, with
// +Inf, -Inf and NaN spelt out and a negative zero written as 0.
func writeFloat(b *bytes.Buffer, f float64) {
	if f == 0 {
		b.WriteByte('0')
		return
	}
	b.Write(strconv.AppendFloat(b.AvailableBuffer(), f, 'g', -1, 64))
}
