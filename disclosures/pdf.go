package disclosures

import (
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/go-pdf/fpdf"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"

	"github.com/consensus-ledger/consensus/chart"
	"github.com/consensus-ledger/consensus/domain"
)

// WritePDF writes the report as one PDF a compliance officer can file: a
// title page with the firm, as_of, known_at and the chain heads; the
// distribution; the recommendations; and a page per price chart (the
// figure package chart draws, as vectors: see chartPage). Text is set in the Go fonts, the ones the PNG
// charts use, embedded as UTF-8 so analyst ids and firm names print as
// recorded. The document's creation and modification dates are known_at,
// never the clock, and its catalogue is written in sorted order: the same
// report writes the same bytes.
func (r Report) WritePDF(w io.Writer) error {
	pdf := fpdf.New("L", "mm", "A4", "")
	pdf.SetCreationDate(r.KnownAt)
	pdf.SetModificationDate(r.KnownAt)
	pdf.SetCatalogSort(true)
	pdf.SetCompression(true)
	pdf.SetProducer("consensus", false)
	pdf.SetTitle("Research disclosures: "+r.Firm, true)
	pdf.SetSubject(fmt.Sprintf("as of %s, known at %s", domain.FormatTime(r.AsOf), domain.FormatTime(r.KnownAt)), true)
	pdf.AddUTF8FontFromBytes("go", "", goregular.TTF)
	pdf.AddUTF8FontFromBytes("go", "B", gobold.TTF)
	pdf.SetAutoPageBreak(true, 12)
	pdf.SetFooterFunc(func() {
		pdf.SetY(-10)
		pdf.SetFont("go", "", 8)
		pdf.CellFormat(0, 5, fmt.Sprintf("%s research disclosures as of %s: page %d", r.Firm, r.AsOf.Format(time.DateOnly), pdf.PageNo()),
			"", 0, "C", false, 0, "")
	})

	r.titlePage(pdf)
	r.distributionPage(pdf)
	r.recommendationPages(pdf)
	for _, c := range r.Charts {
		chartPage(pdf, c)
	}
	if err := pdf.Error(); err != nil {
		return fmt.Errorf("pdf: %w", err)
	}
	return pdf.Output(w)
}

func heading(pdf *fpdf.Fpdf, text string) {
	pdf.SetFont("go", "B", 15)
	pdf.CellFormat(0, 10, text, "", 1, "L", false, 0, "")
	pdf.SetFont("go", "", 10)
}

func (r Report) titlePage(pdf *fpdf.Fpdf) {
	pdf.AddPage()
	pdf.SetFont("go", "B", 22)
	pdf.CellFormat(0, 14, "Research disclosures", "", 1, "L", false, 0, "")
	pdf.SetFont("go", "B", 16)
	pdf.CellFormat(0, 10, r.Firm, "", 1, "L", false, 0, "")
	pdf.Ln(4)
	pdf.SetFont("go", "", 11)
	window := "none (every rating held counts)"
	if r.WindowDays != nil {
		window = strconv.Itoa(*r.WindowDays) + " days"
	}
	for _, line := range [][2]string{
		{"as of", domain.FormatTime(r.AsOf)},
		{"known at", domain.FormatTime(r.KnownAt)},
		{"recommendations", fmt.Sprintf("effective after %s, %d months", domain.FormatTime(r.From), r.Months)},
		{"window", window},
	} {
		pdf.CellFormat(45, 7, line[0], "", 0, "L", false, 0, "")
		pdf.CellFormat(0, 7, line[1], "", 1, "L", false, 0, "")
	}
	pdf.Ln(3)
	pdf.MultiCell(0, 5, "Closes are as published, unadjusted for splits: the close at publication is the latest close "+
		"effective at or before the event, set beside the target as published; the close as of is the latest close "+
		"effective at or before the as-of date. An event is the firm's when the analyst's latest rating on the "+
		"instrument at or before it names the firm.", "", "L", false)
	pdf.Ln(3)
	pdf.SetFont("go", "B", 11)
	pdf.CellFormat(0, 8, "Ledger chain heads as known at "+domain.FormatTime(r.KnownAt), "", 1, "L", false, 0, "")
	pdf.SetFont("go", "", 8)
	if len(r.Heads) == 0 {
		pdf.CellFormat(0, 5, "No stream of the report has events known then.", "", 1, "L", false, 0, "")
	}
	for _, h := range r.Heads {
		pdf.CellFormat(60, 5, h.Stream, "", 0, "L", false, 0, "")
		pdf.CellFormat(25, 5, "event "+strconv.FormatInt(h.Version, 10), "", 0, "L", false, 0, "")
		pdf.CellFormat(0, 5, h.Hash, "", 1, "L", false, 0, "")
	}
}

func (r Report) distributionPage(pdf *fpdf.Fpdf) {
	pdf.AddPage()
	heading(pdf, fmt.Sprintf("Distribution of ratings as of %s (%d instruments)", r.AsOf.Format(time.DateOnly), r.Distribution.Instruments))
	table(pdf, []float64{40, 30, 30}, []string{"bucket", "count", "percent"}, func(row func(...string)) {
		for _, b := range r.Distribution.rows() {
			row(b.name, strconv.Itoa(b.count), b.pct)
		}
	})
	pdf.Ln(6)
	heading(pdf, "Ratings counted")
	table(pdf, []float64{30, 70, 45, 45, 30}, []string{"instrument", "analyst", "rating", "as given", "rated"}, func(row func(...string)) {
		for _, h := range r.Distribution.Holdings {
			row(string(h.Instrument), string(h.Analyst), h.Rating, h.BrokerRating, h.RatedAt.Format(time.DateOnly))
		}
	})
}

func (r Report) recommendationPages(pdf *fpdf.Fpdf) {
	pdf.AddPage()
	heading(pdf, fmt.Sprintf("Recommendations in the %d months to %s (%d)", r.Months, r.AsOf.Format(time.DateOnly), len(r.Recommendations)))
	widths := []float64{22, 22, 55, 45, 24, 28, 22, 26, 27}
	header := []string{"effective", "instrument", "analyst", "rating", "action", "target", "target act.", "close at pub.", "close as of"}
	table(pdf, widths, header, func(row func(...string)) {
		for _, rec := range r.Recommendations {
			row(rec.dateText(), string(rec.Instrument), string(rec.Analyst), rec.ratingText(), orDash(deref(rec.RatingAction)),
				rec.targetText(), orDash(deref(rec.TargetAction)), orDash(moneyText(rec.CloseAtPublication)), orDash(moneyText(rec.CloseAsOf)))
		}
	})
}

// table writes a header row and the rows fill gives, repeating the header
// on every new page.
func table(pdf *fpdf.Fpdf, widths []float64, header []string, fill func(row func(...string))) {
	writeHeader := func() {
		pdf.SetFont("go", "B", 8)
		pdf.SetFillColor(0xe5, 0xe7, 0xeb)
		for i, h := range header {
			pdf.CellFormat(widths[i], 6, h, "1", 0, "L", true, 0, "")
		}
		pdf.Ln(-1)
		pdf.SetFont("go", "", 8)
	}
	writeHeader()
	_, pageHeight := pdf.GetPageSize()
	_, _, _, bottom := pdf.GetMargins()
	fill(func(cells ...string) {
		if pdf.GetY()+5 > pageHeight-bottom-12 {
			pdf.AddPage()
			writeHeader()
		}
		for i, c := range cells {
			// Long analyst ids are cut to their column: the full id is in
			// the JSON and CSV of the same report.
			for pdf.GetStringWidth(c) > widths[i]-2 && len(c) > 1 {
				c = string([]rune(c)[:len([]rune(c))-1])
			}
			pdf.CellFormat(widths[i], 5, c, "1", 0, "L", false, 0, "")
		}
		pdf.Ln(-1)
	})
}

// chartPage draws a chart's figure, the one package chart writes as SVG
// and PNG, on a page of its own as vector graphics: its shapes become the
// PDF's lines, polygons and text in the same palette and fonts. Vectors
// print sharply at any size, keep the markers' labels as text a reader can
// search and copy, and cost a fraction of a raster. (Embedded PNGs were
// tried first, but fpdf v0.9.0 writes images of equal width in the order of
// a Go map, so a PDF with two charts was not the same bytes twice.)
func chartPage(pdf *fpdf.Fpdf, c Chart) {
	pdf.AddPage()
	heading(pdf, fmt.Sprintf("%s: price chart", c.Instrument))
	drawFigure(pdf, c.Figure(), 12, pdf.GetY()+2, 270)
	pdf.SetFont("go", "", 10)
	pdf.SetTextColor(0, 0, 0)
}

// drawFigure paints fig with its top left corner at (x0, y0), width mm wide.
func drawFigure(pdf *fpdf.Fpdf, fig *chart.Figure, x0, y0, width float64) {
	k := width / float64(fig.Width) // millimetres per pixel
	at := func(p chart.Point) fpdf.PointType { return fpdf.PointType{X: x0 + p.X*k, Y: y0 + p.Y*k} }
	pdf.SetLineJoinStyle("round")
	pdf.SetLineCapStyle("round")
	for _, shape := range fig.Shapes {
		switch s := shape.(type) {
		case chart.Rect:
			if st := chart.StyleOf(s.Class); st.Fill.A != 0 {
				pdf.SetFillColor(int(st.Fill.R), int(st.Fill.G), int(st.Fill.B))
				pdf.Rect(x0+s.X*k, y0+s.Y*k, s.W*k, s.H*k, "F")
			}
		case chart.Area:
			if st := chart.StyleOf(s.Class); st.Fill.A != 0 && len(s.Points) > 2 {
				pts := make([]fpdf.PointType, len(s.Points))
				for i, p := range s.Points {
					pts[i] = at(p)
				}
				pdf.SetFillColor(int(st.Fill.R), int(st.Fill.G), int(st.Fill.B))
				pdf.Polygon(pts, "F")
			}
		case chart.Line:
			if st := chart.StyleOf(s.Class); st.Stroke.A != 0 && len(s.Points) > 1 {
				pdf.SetDrawColor(int(st.Stroke.R), int(st.Stroke.G), int(st.Stroke.B))
				pdf.SetLineWidth(st.StrokeWidth * k)
				first := at(s.Points[0])
				pdf.MoveTo(first.X, first.Y)
				for _, p := range s.Points[1:] {
					q := at(p)
					pdf.LineTo(q.X, q.Y)
				}
				pdf.DrawPath("D")
			}
		case chart.Text:
			st := chart.StyleOf(s.Class)
			style := ""
			if st.Bold {
				style = "B"
			}
			pdf.SetFont("go", style, st.FontSize*k*72/25.4) // pixels to millimetres to points
			pdf.SetTextColor(int(st.Fill.R), int(st.Fill.G), int(st.Fill.B))
			x := x0 + s.X*k
			switch s.Anchor {
			case chart.Middle:
				x -= pdf.GetStringWidth(s.Text) / 2
			case chart.End:
				x -= pdf.GetStringWidth(s.Text)
			}
			pdf.Text(x, y0+s.Y*k, s.Text)
		}
	}
}
