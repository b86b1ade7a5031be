package chart

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"image/color"
	"io"
	"slices"
	"strconv"
	"strings"
)

// fontFamily is the SVG's font list: the Go fonts the PNG uses, then the
// viewer's own.
const fontFamily = `Go,system-ui,-apple-system,"Segoe UI",Roboto,sans-serif`

// WriteSVG writes the figure as a standalone SVG document. Coordinates are
// rounded to a tenth of a pixel, which keeps the file small and cannot be
// seen.
func (f *Figure) WriteSVG(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" role="img" aria-labelledby="t d">`,
		f.Width, f.Height, f.Width, f.Height)
	title := f.Title
	if title == "" {
		title = "Analyst consensus"
	}
	bw.WriteString(`<title id="t">`)
	escape(bw, title)
	bw.WriteString(`</title><desc id="d">`)
	escape(bw, f.Description)
	bw.WriteString(`</desc>`)
	writeStyle(bw, f)
	buf := make([]byte, 0, 64)
	for _, s := range f.Shapes {
		switch s := s.(type) {
		case Rect:
			fmt.Fprintf(bw, `<rect class="%s" x="%s" y="%s" width="%s" height="%s"/>`, s.Class,
				num(buf, s.X), num(buf, s.Y), num(buf, s.W), num(buf, s.H))
		case Line:
			fmt.Fprintf(bw, `<polyline class="%s" points="`, s.Class)
			writePoints(bw, s.Points)
			bw.WriteString(`"/>`)
		case Area:
			fmt.Fprintf(bw, `<polygon class="%s" points="`, s.Class)
			writePoints(bw, s.Points)
			bw.WriteString(`"/>`)
		case Text:
			fmt.Fprintf(bw, `<text class="%s" x="%s" y="%s"%s>`, s.Class, num(buf, s.X), num(buf, s.Y), anchorAttr(s.Anchor))
			escape(bw, s.Text)
			bw.WriteString(`</text>`)
		}
	}
	bw.WriteString("</svg>\n")
	return bw.Flush()
}

// writeStyle writes one CSS rule for each class the figure uses, from the
// same palette the PNG is painted with.
func writeStyle(w *bufio.Writer, f *Figure) {
	var used []Class
	for _, s := range f.Shapes {
		if c := s.class(); !slices.Contains(used, c) {
			used = append(used, c)
		}
	}
	slices.Sort(used)
	w.WriteString(`<style>text{font-family:` + fontFamily + `}polyline{fill:none;stroke-linejoin:round;stroke-linecap:round}`)
	for _, c := range used {
		s := StyleOf(c)
		var rule []string
		rule = append(rule, "fill:"+cssColor(s.Fill))
		if s.Stroke.A != 0 {
			rule = append(rule, "stroke:"+cssColor(s.Stroke), "stroke-width:"+strconv.FormatFloat(s.StrokeWidth, 'f', -1, 64))
		}
		if s.Dash != 0 {
			rule = append(rule, "stroke-dasharray:"+strconv.FormatFloat(s.Dash, 'f', -1, 64), "stroke-linecap:butt")
		}
		if s.FontSize != 0 {
			rule = append(rule, "font-size:"+strconv.FormatFloat(s.FontSize, 'f', -1, 64)+"px")
		}
		if s.Bold {
			rule = append(rule, "font-weight:bold")
		}
		fmt.Fprintf(w, ".%s{%s}", c, strings.Join(rule, ";"))
	}
	w.WriteString(`</style>`)
}

// cssColor writes a colour as CSS: "none" when transparent.
func cssColor(c color.NRGBA) string {
	switch c.A {
	case 0:
		return "none"
	case 0xff:
		return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B)
	}
	return fmt.Sprintf("rgba(%d,%d,%d,%s)", c.R, c.G, c.B, strconv.FormatFloat(float64(c.A)/255, 'f', 3, 64))
}

func anchorAttr(a Anchor) string {
	switch a {
	case Middle:
		return ` text-anchor="middle"`
	case End:
		return ` text-anchor="end"`
	}
	return ""
}

func writePoints(w *bufio.Writer, pts []Point) {
	buf := make([]byte, 0, 32)
	for i, p := range pts {
		if i > 0 {
			w.WriteByte(' ')
		}
		w.WriteString(num(buf, p.X))
		w.WriteByte(',')
		w.WriteString(num(buf, p.Y))
	}
}

// num writes a coordinate to a tenth of a pixel, without a trailing ".0".
func num(buf []byte, v float64) string {
	b := strconv.AppendFloat(buf[:0], v, 'f', 1, 64)
	if n := len(b); n >= 2 && b[n-2] == '.' && b[n-1] == '0' {
		b = b[:n-2]
	}
	if string(b) == "-0" {
		return "0"
	}
	return string(b)
}

func escape(w io.Writer, s string) {
	_ = xml.EscapeText(w, []byte(s)) // writes to a bufio.Writer, whose error Flush reports
}
