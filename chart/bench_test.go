package chart_test

import (
	"io"
	"testing"

	"github.com/consensus-ledger/consensus/chart"
	"github.com/consensus-ledger/consensus/projections"
)

// pngScale is the density `consensus chart -o FILE.png` draws at.
const pngScale = 2

// BenchmarkChartPNGDefault is `consensus chart -o FILE.png` of three months,
// daily, at the default size: the figure built and rasterised at twice its
// size, then PNG-encoded. Reproduce with
// go test ./chart -run '^$' -bench Chart -benchtime 5x -benchmem.
func BenchmarkChartPNGDefault(b *testing.B) {
	rows := demoRows(b, projections.Day)
	b.ReportAllocs()
	for b.Loop() {
		fig := chart.New(rows, chart.Options{Title: "BABA analyst consensus (USD), 2025-06-01 to 2025-09-11"})
		if err := fig.WritePNG(io.Discard, pngScale); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkChartPNGLargest is the largest PNG the command line draws.
func BenchmarkChartPNGLargest(b *testing.B) {
	rows := demoRows(b, projections.Day)
	b.ReportAllocs()
	for b.Loop() {
		fig := chart.New(rows, chart.Options{Width: chart.MaxPNGSize, Height: chart.MaxPNGSize})
		if err := fig.WritePNG(io.Discard, pngScale); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkChartSVGDefault is the same figure as an SVG document, as the
// API's chart route and the web page draw it.
func BenchmarkChartSVGDefault(b *testing.B) {
	rows := demoRows(b, projections.Day)
	b.ReportAllocs()
	for b.Loop() {
		fig := chart.New(rows, chart.Options{Title: "BABA analyst consensus (USD), 2025-06-01 to 2025-09-11"})
		if err := fig.WriteSVG(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
