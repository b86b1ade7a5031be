package chart

import (
	"image"
	"image/draw"
	"image/png"
	"io"
	"math"

	"golang.org/x/image/font"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"
)

// Raster paints the figure into an image scale times its size in pixels
// (2 gives a crisp picture on high-density screens and in print).
func (f *Figure) Raster(scale float64) (*image.RGBA, error) {
	if scale <= 0 {
		scale = 1
	}
	w, h := int(math.Ceil(float64(f.Width)*scale)), int(math.Ceil(float64(f.Height)*scale))
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	r := &rasterizer{img: img, scale: scale, z: vector.NewRasterizer(w, h), faces: newFaceSet(scale)}
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
type rasterizer struct {
	img   *image.RGBA
	scale float64
	z     *vector.Rasterizer
	faces *faceSet
}

func (r *rasterizer) paint(s Shape) error {
	st := StyleOf(s.class())
	switch s := s.(type) {
	case Rect:
		r.begin()
		r.polygon([]Point{{s.X, s.Y}, {s.X + s.W, s.Y}, {s.X + s.W, s.Y + s.H}, {s.X, s.Y + s.H}})
		r.fill(st.Fill)
	case Area:
		r.begin()
		r.polygon(s.Points)
		r.fill(st.Fill)
	case Line:
		r.begin()
		r.stroke(s.Points, st.StrokeWidth)
		r.fill(st.Stroke)
	case Text:
		return r.text(s, st)
	}
	return nil
}

func (r *rasterizer) begin() {
	b := r.img.Bounds()
	r.z.Reset(b.Dx(), b.Dy())
}

func (r *rasterizer) fill(c interface{ RGBA() (r, g, b, a uint32) }) {
	if _, _, _, a := c.RGBA(); a == 0 {
		return
	}
	r.z.DrawOp = draw.Over
	r.z.Draw(r.img, r.img.Bounds(), image.NewUniform(c), image.Point{})
}

// polygon adds a closed path, in figure coordinates.
func (r *rasterizer) polygon(pts []Point) {
	if len(pts) < 3 {
		return
	}
	r.z.MoveTo(r.pt(pts[0]))
	for _, p := range pts[1:] {
		r.z.LineTo(r.pt(p))
	}
	r.z.ClosePath()
}

func (r *rasterizer) pt(p Point) (float32, float32) {
	return float32(p.X * r.scale), float32(p.Y * r.scale)
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
