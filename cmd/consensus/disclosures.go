package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"github.com/consensus-ledger/consensus/disclosures"
	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/outfile"
)

type disclosuresCmd struct {
	storeFlag
	pointFlags
	forceFlag
	firm, charts, pdf string
	months            int
	json, csv         bool
}

func (c *disclosuresCmd) usage() (string, string) {
	return "disclosures --firm F [--as-of D] [--known-at T] [--months 12] [--window 0d] [--json|--csv] [--charts DIR] [--pdf FILE] [--force]",
		"The research disclosures of one firm: the distribution of its ratings, its recommendations with the close at publication, price charts and a PDF."
}

func (c *disclosuresCmd) details() string {
	return "The firm is matched exactly as recorded in its ratings; an event is the firm's when the analyst's latest rating on the\n" +
		"instrument at or before it names the firm. Closes are as published (unadjusted for splits). --charts DIR writes\n" +
		"SYMBOL.svg and SYMBOL.png per instrument (DIR is created if missing); --pdf FILE writes one document. Existing\n" +
		"files are refused unless --force is given. Given the same --as-of and --known-at, every output is the same bytes."
}

func (c *disclosuresCmd) define(fs *pflag.FlagSet) {
	c.storeFlag.define(fs)
	c.pointFlags.define(fs, true)
	// The distribution counts every rating held unless a window is asked
	// for (CONTRACT section 9), unlike show's 90 days.
	w := fs.Lookup("window")
	w.DefValue, w.Usage = "0d", "count only ratings refreshed within this window, such as 90d; 0d counts every rating held"
	_ = w.Value.Set("0d")
	fs.StringVar(&c.firm, "firm", "", "the firm, exactly as recorded in its ratings (required)")
	fs.IntVar(&c.months, "months", disclosures.DefaultMonths, "the recommendations of this many months to --as-of (1 to 120)")
	fs.BoolVar(&c.json, "json", false, "print JSON")
	fs.BoolVar(&c.csv, "csv", false, "print CSV with a header row")
	fs.StringVar(&c.charts, "charts", "", "write a price chart per instrument to this directory, as SYMBOL.svg and SYMBOL.png")
	fs.StringVar(&c.pdf, "pdf", "", "write the report as one PDF to this new file")
	c.forceFlag.define(fs, "the --pdf file and the --charts files")
}

func (c *disclosuresCmd) run(ctx context.Context, a *app, args []string) error {
	if len(args) > 0 {
		return usagef("unexpected argument %s", domain.Quote(args[0]))
	}
	if err := required(map[string]string{"firm": c.firm}); err != nil {
		return err
	}
	if c.json && c.csv {
		return usagef("--json and --csv are exclusive; choose one")
	}
	if err := disclosures.CheckMonths("months", c.months); err != nil {
		return err
	}
	q, err := c.query(a)
	if err != nil {
		return err
	}
	pdfOut := outputOptions(a, &c.storeFlag, "--pdf", c.force)
	if c.pdf != "" {
		if err := outfile.Check(c.pdf, pdfOut); err != nil {
			return err
		}
	}
	if c.charts != "" {
		if err := checkChartDir(c.charts); err != nil {
			return err
		}
	}
	l, closeStore, err := c.open(a, true)
	if err != nil {
		return err
	}
	defer closeStore()
	rep, err := l.Disclosures(ctx, disclosures.Query{Firm: c.firm, AsOf: q.AsOf, KnownAt: q.KnownAt, Months: c.months, Window: q.Window})
	if err != nil {
		return err
	}
	// Every file is checked before any is written, so a refusal writes
	// nothing.
	chartOut := outputOptions(a, &c.storeFlag, "--charts", c.force)
	var files []string
	if c.charts != "" {
		for _, ch := range rep.Charts {
			for _, ext := range []string{".svg", ".png"} {
				files = append(files, filepath.Join(c.charts, string(ch.Instrument)+ext))
			}
		}
		// A directory still to be created holds no file to refuse; each
		// file is checked again as it is put in place.
		if _, err := os.Stat(c.charts); err == nil {
			for _, f := range files {
				if err := outfile.Check(f, chartOut); err != nil {
					return err
				}
			}
		}
	}
	if c.pdf != "" {
		if err := outfile.Write(c.pdf, pdfOut, rep.WritePDF); err != nil {
			return err
		}
	}
	if c.charts != "" {
		if err := os.Mkdir(c.charts, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("--charts %s cannot be created: %w", c.charts, err)
		}
		for i, ch := range rep.Charts {
			fig := ch.Figure()
			if err := outfile.Write(files[2*i], chartOut, fig.WriteSVG); err != nil {
				return err
			}
			if err := outfile.Write(files[2*i+1], chartOut, func(w io.Writer) error { return fig.WritePNG(w, disclosures.PNGScale) }); err != nil {
				return err
			}
		}
	}
	switch {
	case c.json:
		return rep.WriteJSON(a.stdout)
	case c.csv:
		return rep.WriteCSV(a.stdout)
	}
	if err := rep.WriteText(a.stdout); err != nil {
		return err
	}
	if len(files) > 0 || c.pdf != "" {
		var wrote []string
		if c.pdf != "" {
			wrote = append(wrote, c.pdf)
		}
		wrote = append(wrote, files...)
		fmt.Fprintf(a.stdout, "\nwrote %s\n", strings.Join(wrote, ", "))
	}
	return nil
}

// checkChartDir refuses a --charts that names something other than a
// directory, or a directory whose parent does not exist, before any work.
func checkChartDir(dir string) error {
	st, err := os.Stat(dir)
	switch {
	case err == nil && !st.IsDir():
		return fmt.Errorf("--charts %s is not a directory", domain.Quote(dir))
	case err == nil:
		return nil
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("--charts %s: %w", domain.Quote(dir), err)
	}
	parent := filepath.Dir(dir)
	if st, err := os.Stat(parent); err != nil || !st.IsDir() {
		return fmt.Errorf("--charts %s: directory %s does not exist", domain.Quote(dir), domain.Quote(parent))
	}
	return nil
}
