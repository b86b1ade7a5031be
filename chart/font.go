package chart

import (
	"fmt"
	"sync"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
)

// The Go fonts are compiled into the binary, so a PNG looks the same on
// every machine and needs no font installed. SVG names them first too and
// falls back to the viewer's sans-serif.
var parsedFonts = sync.OnceValues(func() ([2]*opentype.Font, error) {
	regular, err := opentype.Parse(goregular.TTF)
	if err != nil {
		return [2]*opentype.Font{}, fmt.Errorf("parse Go Regular: %w", err)
	}
	bold, err := opentype.Parse(gobold.TTF)
	if err != nil {
		return [2]*opentype.Font{}, fmt.Errorf("parse Go Bold: %w", err)
	}
	return [2]*opentype.Font{regular, bold}, nil
})

// faceSet makes font faces on demand and keeps them. A face is not safe for
// concurrent use, so each rendering has its own set.
type faceSet struct {
	scale float64
	faces map[Style]font.Face
}

func newFaceSet(scale float64) *faceSet {
	return &faceSet{scale: scale, faces: map[Style]font.Face{}}
}

// face returns the face of a text style.
func (fs *faceSet) face(s Style) (font.Face, error) {
	if f, ok := fs.faces[s]; ok {
		return f, nil
	}
	fonts, err := parsedFonts()
	if err != nil {
		return nil, err
	}
	which := fonts[0]
	if s.Bold {
		which = fonts[1]
	}
	f, err := opentype.NewFace(which, &opentype.FaceOptions{Size: s.FontSize * fs.scale, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return nil, fmt.Errorf("font face of %g px: %w", s.FontSize*fs.scale, err)
	}
	fs.faces[s] = f
	return f, nil
}

// measuring is the face set layout measures text with, shared and locked.
var (
	measuringMu sync.Mutex
	measuring   = newFaceSet(1)
)

// textWidth is how wide text is drawn in class c, in pixels. Layout uses it
// to place legends; should the fonts fail to load, it estimates instead.
func textWidth(c Class, text string) float64 {
	s := StyleOf(c)
	measuringMu.Lock()
	defer measuringMu.Unlock()
	f, err := measuring.face(s)
	if err != nil {
		return float64(len(text)) * s.FontSize * 0.6
	}
	return float64(font.MeasureString(f, text)) / 64
}
