package exposition

import (
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Opts names a metric and says what it counts; the help is shown as given.
type Opts struct {
	Name, Help string
}

// Counter is a value that only goes up.
type Counter struct{ bits atomic.Uint64 }

// Inc adds one.
func (c *Counter) Inc() { c.Add(1) }

// Add adds v, which must not be negative: a counter that went down would
// read as a restart to Prometheus's rate().
func (c *Counter) Add(v float64) {
	if v < 0 {
		panic("exposition: a counter cannot decrease")
	}
	addFloat(&c.bits, v)
}

// Gauge is a value that goes up and down.
type Gauge struct{ bits atomic.Uint64 }

// Inc adds one.
func (g *Gauge) Inc() { addFloat(&g.bits, 1) }

// Dec takes one away.
func (g *Gauge) Dec() { addFloat(&g.bits, -1) }

func addFloat(bits *atomic.Uint64, v float64) {
	for {
		old := bits.Load()
		if bits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			return
		}
	}
}

// NewGauge registers a gauge without labels.
func (r *Registry) NewGauge(o Opts) *Gauge {
	g := &Gauge{}
	r.register(func(add func(family)) {
		add(family{name: o.Name, help: o.Help, typ: "gauge",
			series: []series{{value: math.Float64frombits(g.bits.Load())}}})
	})
	return g
}

// NewGaugeFunc registers a gauge whose value is read at each scrape.
func (r *Registry) NewGaugeFunc(o Opts, read func() float64) { r.newFunc(o, "gauge", read) }

// NewCounterFunc registers a counter whose value is read at each scrape.
func (r *Registry) NewCounterFunc(o Opts, read func() float64) { r.newFunc(o, "counter", read) }

func (r *Registry) newFunc(o Opts, typ string, read func() float64) {
	r.register(func(add func(family)) {
		add(family{name: o.Name, help: o.Help, typ: typ, series: []series{{value: read()}}})
	})
}

// vec keeps one metric per set of label values, created on first use.
type vec[M any] struct {
	names []string // the label names as declared
	order []int    // the declared positions, in label-name order
	mu    sync.RWMutex
	byKey map[string]*labelled[M]
}

type labelled[M any] struct {
	labels []string // name, value, ... sorted by name
	m      *M
}

func newVec[M any](names []string) *vec[M] {
	order := make([]int, len(names))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return strings.Compare(names[a], names[b]) })
	return &vec[M]{names: names, order: order, byKey: map[string]*labelled[M]{}}
}

// with returns the metric of these label values (in declared order),
// creating it with newM on first use.
func (v *vec[M]) with(values []string, newM func() *M) *M {
	if len(values) != len(v.names) {
		panic("exposition: " + strings.Join(v.names, ",") + " want one value each")
	}
	key := strings.Join(values, "\xff")
	v.mu.RLock()
	l, ok := v.byKey[key]
	v.mu.RUnlock()
	if ok {
		return l.m
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if l, ok := v.byKey[key]; ok {
		return l.m
	}
	labels := make([]string, 0, 2*len(values))
	for _, i := range v.order {
		labels = append(labels, v.names[i], values[i])
	}
	l = &labelled[M]{labels: labels, m: newM()}
	v.byKey[key] = l
	return l.m
}

// each calls f with every metric and its sorted labels.
func (v *vec[M]) each(f func(labels []string, m *M)) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	for _, l := range v.byKey {
		f(l.labels, l.m)
	}
}

// CounterVec is a counter per set of label values.
type CounterVec struct{ v *vec[Counter] }

// NewCounterVec registers a counter with labels.
func (r *Registry) NewCounterVec(o Opts, labels ...string) *CounterVec {
	c := &CounterVec{v: newVec[Counter](labels)}
	r.register(func(add func(family)) {
		f := family{name: o.Name, help: o.Help, typ: "counter"}
		c.v.each(func(labels []string, m *Counter) {
			f.series = append(f.series, series{labels: labels, value: math.Float64frombits(m.bits.Load())})
		})
		add(f)
	})
	return c
}

// WithLabelValues returns the counter of these label values, given in the
// order the labels were declared.
func (c *CounterVec) WithLabelValues(values ...string) *Counter {
	return c.v.with(values, func() *Counter { return &Counter{} })
}

// Histogram counts observations into buckets by upper bound.
type Histogram struct {
	bounds []float64
	mu     sync.Mutex // a scrape sees a count equal to its buckets' sum
	counts []uint64   // per bucket, not cumulative; the last is above every bound
	sum    float64
}

// Observe counts v in the first bucket whose bound is at least v.
func (h *Histogram) Observe(v float64) {
	i, _ := slices.BinarySearch(h.bounds, v)
	h.mu.Lock()
	h.counts[i]++
	h.sum += v
	h.mu.Unlock()
}

// HistogramVec is a histogram per set of label values.
type HistogramVec struct {
	v      *vec[Histogram]
	bounds []float64
}

// NewHistogramVec registers a histogram with these bucket bounds (sorted,
// without +Inf, which every histogram has) and labels.
func (r *Registry) NewHistogramVec(o Opts, bounds []float64, labels ...string) *HistogramVec {
	h := &HistogramVec{v: newVec[Histogram](labels), bounds: slices.Clone(bounds)}
	r.register(func(add func(family)) {
		f := family{name: o.Name, help: o.Help, typ: "histogram"}
		h.v.each(func(labels []string, m *Histogram) {
			s := series{labels: labels, buckets: make([]bucket, len(m.bounds))}
			m.mu.Lock()
			for i, b := range m.bounds {
				s.count += m.counts[i]
				s.buckets[i] = bucket{bound: b, value: float64(s.count)}
			}
			s.count += m.counts[len(m.bounds)]
			s.sum = m.sum
			m.mu.Unlock()
			f.series = append(f.series, s)
		})
		add(f)
	})
	return h
}

// WithLabelValues returns the histogram of these label values, given in the
// order the labels were declared.
func (h *HistogramVec) WithLabelValues(values ...string) *Histogram {
	return h.v.with(values, func() *Histogram {
		return &Histogram{bounds: h.bounds, counts: make([]uint64, len(h.bounds)+1)}
	})
}
