package chart

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"
)

// Raster paints the figure into an image scale times its size in pixels
// (2 gives a crisp picture on high-density screens and in print). It
// refuses a raster of more than MaxRasterPixels: the image and the
// rasterizer's buffers take some 12 bytes a pixel.
func (f *Figure) Raster(scale float64) (*image.RGBA, error) {
	if scale <= 0 {
		scale = 1
	}
	w, h := int(math.Ceil(float64(f.Width)*scale)), int(math.Ceil(float64(f.Height)*scale))
	if w*h > MaxRasterPixels {
		return nil, fmt.Errorf("a %dx%d raster is larger than the limit of %d pixels", w, h, MaxRasterPixels)
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r := &rasterizer{img: img, scale: scale, z: &vector.Rasterizer{}, faces: newFaceSet(scale)}
	for _, s := range f.Shapes {
		if err := r.paint(s); err != nil {
			return nil, err
		}
	}
	return img, nil
}

// WritePNG writes the figure as a PNG image at the given scale.
func (f *Figure) WritePNG(w io.Writer, scale float64) error {
	img, err := f.Raster(scale)
	if err != nil {
		return err
	}
	return png.Encode(w, img)
}

// rasterizer paints shapes with anti-aliasing, through golang.org/x/image's
// vector rasterizer for geometry and its font drawer for text.
//
// Each shape is rasterised within its own bounding box, not the whole
// canvas: the rasterizer's cost is the area it covers, and a chart is
// hundreds of small shapes (a column per day), so painting each over the
// whole canvas took seconds where the box takes milliseconds.
type rasterizer struct {
	img   *image.RGBA
	scale float64
	z     *vector.Rasterizer
	faces *faceSet
	// path is the shape being painted, in canvas pixels: closed polygons,
	// gathered until fill knows their bounding box.
	path [][]Point
}

func (r *rasterizer) paint(s Shape) error {
	st := StyleOf(s.class())
	switch s := s.(type) {
	case Rect:
		if r.fillAligned(s, st.Fill) {
			return nil
		}
		r.polygon([]Point{{s.X, s.Y}, {s.X + s.W, s.Y}, {s.X + s.W, s.Y + s.H}, {s.X, s.Y + s.H}})
		r.fill(st.Fill)
	case Area:
		r.polygon(s.Points)
		r.fill(st.Fill)
	case Line:
		for _, dash := range dashes(s.Points, st.Dash) {
			r.stroke(dash, st.StrokeWidth)
		}
		r.fill(st.Stroke)
	case Text:
		return r.text(s, st)
	}
	return nil
}

// fillAligned paints a rectangle whose edges fall on whole pixels (the
// background) directly, without the rasterizer, which would need buffers
// the size of the canvas for it; it reports false for any other rectangle.
func (r *rasterizer) fillAligned(s Rect, c color.NRGBA) bool {
	x0, y0, x1, y1 := s.X*r.scale, s.Y*r.scale, (s.X+s.W)*r.scale, (s.Y+s.H)*r.scale
	for _, v := range []float64{x0, y0, x1, y1} {
		if v != math.Trunc(v) {
			return false
		}
	}
	if c.A != 0 {
		rect := image.Rect(int(x0), int(y0), int(x1), int(y1)).Intersect(r.img.Bounds())
		draw.Draw(r.img, rect, image.NewUniform(c), image.Point{}, draw.Over)
	}
	return true
}

// fill paints the gathered path in colour c, rasterised within the path's
// bounding box (whole pixels, within the canvas), and starts a new path.
func (r *rasterizer) fill(c color.NRGBA) {
	defer func() { r.path = r.path[:0] }()
	if c.A == 0 || len(r.path) == 0 {
		return
	}
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, poly := range r.path {
		for _, p := range poly {
			minX, minY = math.Min(minX, p.X), math.Min(minY, p.Y)
			maxX, maxY = math.Max(maxX, p.X), math.Max(maxY, p.Y)
		}
	}
	box := image.Rect(int(math.Floor(minX)), int(math.Floor(minY)), int(math.Ceil(maxX)), int(math.Ceil(maxY))).
		Intersect(r.img.Bounds())
	if box.Empty() {
		return
	}
	r.z.Reset(box.Dx(), box.Dy())
	ox, oy := float64(box.Min.X), float64(box.Min.Y)
	for _, poly := range r.path {
		r.z.MoveTo(float32(poly[0].X-ox), float32(poly[0].Y-oy))
		for _, p := range poly[1:] {
			r.z.LineTo(float32(p.X-ox), float32(p.Y-oy))
		}
		r.z.ClosePath()
	}
	r.z.DrawOp = draw.Over
	r.z.Draw(r.img, box, image.NewUniform(c), image.Point{})
}

// polygon adds a closed path, given in figure coordinates.
func (r *rasterizer) polygon(pts []Point) {
	if len(pts) < 3 {
		return
	}
	scaled := make([]Point, len(pts))
	for i, p := range pts {
		scaled[i] = Point{p.X * r.scale, p.Y * r.scale}
	}
	r.path = append(r.path, scaled)
}

// stroke adds a polyline of the given width as filled shapes: one
// quadrilateral per segment and a small octagon at every vertex for round
// joins and caps. All are wound the same way, so where they overlap the
// rasterizer paints them once.
func (r *rasterizer) stroke(pts []Point, width float64) {
	half := width / 2
	for i := 1; i < len(pts); i++ {
		a, b := pts[i-1], pts[i]
		dx, dy := b.X-a.X, b.Y-a.Y
		length := math.Hypot(dx, dy)
		if length == 0 {
			continue
		}
		nx, ny := -dy/length*half, dx/length*half
		r.polygon([]Point{{a.X + nx, a.Y + ny}, {b.X + nx, b.Y + ny}, {b.X - nx, b.Y - ny}, {a.X - nx, a.Y - ny}})
	}
	for _, p := range pts {
		var oct []Point
		for k := 0; k < 8; k++ {
			angle := -float64(k) * math.Pi / 4
			oct = append(oct, Point{p.X + half*math.Cos(angle), p.Y + half*math.Sin(angle)})
		}
		r.polygon(oct)
	}
}

// dashes cuts a polyline into the dashes a dashed stroke paints: pieces
// dash pixels long with gaps as long between them, as the SVG's
// stroke-dasharray draws it. A dash of zero is the whole line.
func dashes(pts []Point, dash float64) [][]Point {
	if dash <= 0 {
		return [][]Point{pts}
	}
	var out [][]Point
	var cur []Point
	on, left := true, dash // painting or not, and for how much longer
	for i := 1; i < len(pts); i++ {
		a, b := pts[i-1], pts[i]
		length := math.Hypot(b.X-a.X, b.Y-a.Y)
		at := 0.0
		for at < length {
			step := math.Min(left, length-at)
			p := Point{a.X + (b.X-a.X)*(at/length), a.Y + (b.Y-a.Y)*(at/length)}
			q := Point{a.X + (b.X-a.X)*((at+step)/length), a.Y + (b.Y-a.Y)*((at+step)/length)}
			if on {
				if len(cur) == 0 {
					cur = append(cur, p)
				}
				cur = append(cur, q)
			}
			at, left = at+step, left-step
			if left <= 0 {
				if on && len(cur) > 1 {
					out = append(out, cur)
				}
				cur, on, left = nil, !on, dash
			}
		}
	}
	if on && len(cur) > 1 {
		out = append(out, cur)
	}
	return out
}

// text draws a line of text with the Go fonts.
func (r *rasterizer) text(t Text, st Style) error {
	face, err := r.faces.face(st)
	if err != nil {
		return err
	}
	d := &font.Drawer{Dst: r.img, Src: image.NewUniform(st.Fill), Face: face}
	x := t.X * r.scale
	switch width := float64(d.MeasureString(t.Text)) / 64; t.Anchor {
	case Middle:
		x -= width / 2
	case End:
		x -= width
	}
	d.Dot = fixed.Point26_6{X: fixed.Int26_6(x * 64), Y: fixed.Int26_6(t.Y * r.scale * 64)}
	d.DrawString(t.Text)
	return nil
}
