package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/consensus-ledger/consensus/chart"
	"github.com/consensus-ledger/consensus/outfile"
	"github.com/consensus-ledger/consensus/projections"
)

// pngScale is the pixel density of a PNG chart: twice its size in pixels,
// so it stays sharp on high-density screens and in printed reports.
const pngScale = 2

type chartCmd struct {
	storeFlag
	forceFlag
	pointFlags
	from, to, every, out string
	width, height        int
	title                string
	firstPublished       bool
}

func (c *chartCmd) usage() (string, string) {
	return "chart SYMBOL --from D --to D -o FILE.svg|.png [--force] [--every auto|day|week|month] [--known-at T] [--window 90d] [--unadjusted] [--basis last|each] [--first-published]",
		"Draws the consensus over time (mean target with its high-low band against the close, and the buy/hold/sell counts) as an SVG or PNG file."
}

func (c *chartCmd) define(fs *pflag.FlagSet) {
	c.storeFlag.define(fs)
	c.pointFlags.define(fs, false)
	fs.StringVar(&c.from, "from", "", "first date (required)")
	fs.StringVar(&c.to, "to", "", "last date (required)")
	fs.StringVarP(&c.out, "output", "o", "", "the new file to write, ending in .svg or .png (required)")
	c.forceFlag.define(fs, "the -o file")
	fs.StringVar(&c.every, "every", "auto", "period of the points: auto, day, week or month")
	fs.IntVar(&c.width, "width", chart.DefaultWidth, "width in pixels")
	fs.IntVar(&c.height, "height", chart.DefaultHeight, "height in pixels")
	fs.StringVar(&c.title, "title", "", "the title above the chart (default: the instrument, its currency and the dates)")
	fs.BoolVar(&c.firstPublished, "first-published", false,
		"each row as known at its own date (or --known-at, if earlier), restated rows shaded")
}

func (c *chartCmd) run(ctx context.Context, a *app, args []string) error {
	if err := required(map[string]string{"from": c.from, "to": c.to, "output": c.out}); err != nil {
		return err
	}
	format := strings.ToLower(filepath.Ext(c.out))
	if format != ".svg" && format != ".png" {
		return usagef("-o %s: the file name must end in .svg or .png", c.out)
	}
	for _, size := range []struct {
		name   string
		pixels int
	}{{"--width", c.width}, {"--height", c.height}} {
		if err := chart.CheckSize(size.name, size.pixels, format == ".png"); err != nil {
			return usagef("%s", err)
		}
	}
	sym, err := oneSymbol(args)
	if err != nil {
		return err
	}
	// Refused before the history is computed, and checked again when the
	// chart is put in place.
	out := outputOptions(a, &c.storeFlag, "-o", c.force)
	if err := outfile.Check(c.out, out); err != nil {
		return err
	}
	from, to, every, err := chartRange(c.from, c.to, c.every)
	if err != nil {
		return err
	}
	if err := chart.CheckPoints(from, to, every, "--every"); err != nil {
		return err // refused, as history refuses a range too long
	}
	var rows []projections.Consensus
	var restated []bool
	var splits []projections.AppliedSplit
	if c.firstPublished {
		h, err := publishedRows(ctx, a, &c.storeFlag, &c.pointFlags, sym, from, to, every)
		if err != nil {
			return err
		}
		if len(h.Rows) == 0 {
			// Nothing to draw: say why, and write no file.
			_, err := fmt.Fprintln(a.stdout, nothingPublished(sym, c.from, c.to, h))
			return err
		}
		rows, restated = h.Split()
	} else if rows, splits, err = historyRows(ctx, a, &c.storeFlag, &c.pointFlags, sym, from, to, every, "", true); err != nil {
		return err
	}
	title := c.title
	if title == "" && len(rows) > 0 {
		title = fmt.Sprintf("%s analyst consensus (%s), %s to %s", sym, rows[0].Currency, c.from, c.to)
		if c.firstPublished {
			title += ", as first published"
		}
	}
	fig := chart.New(rows, chart.Options{Width: c.width, Height: c.height, Title: title, Restated: restated, Splits: splits})
	write := fig.WriteSVG
	if format == ".png" {
		write = func(w io.Writer) error { return fig.WritePNG(w, pngScale) }
	}
	return outfile.Write(c.out, out, write)
}

// chartRange reads the dates and period of a chart. "auto" chooses the
// period from the length of the range, as the web page does.
func chartRange(fromText, toText, everyText string) (from, to time.Time, every projections.Every, err error) {
	if everyText != "auto" {
		return historyGrid(fromText, toText, everyText)
	}
	if from, to, err = parseRange(fromText, toText); err != nil {
		return
	}
	every = chart.AutoEvery(from, to)
	err = projections.CheckHistoryRange(from, to, every)
	return
}
