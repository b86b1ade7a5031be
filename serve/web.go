package serve

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"

	"github.com/consensus-ledger/consensus/domain"
)

// web holds the page and its assets, compiled into the binary: the page
// works with no internet access and needs no build step beyond go build.
//
//go:embed web
var web embed.FS

// pageSecurityPolicy lets the page load only its own assets and talk only
// to its own server: nothing it shows (analyst names, reasons) can run as
// script or reach elsewhere.
const pageSecurityPolicy = "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// webAsset is one embedded file, ready to send: plain and gzip-compressed,
// with an ETag so a browser revalidates it cheaply.
type webAsset struct {
	contentType string
	plain, gz   []byte
	// etag names the plain bytes and etagGzip the compressed ones: two
	// different bodies must not share a validator.
	etag, etagGzip string
}

type webAssets struct {
	files map[string]*webAsset // by name: index.html, app.js, ...
}

// loadWebAssets compresses every embedded file once, at start.
func loadWebAssets() (*webAssets, error) {
	entries, err := fs.ReadDir(web, "web")
	if err != nil {
		return nil, fmt.Errorf("read the embedded web assets: %w", err)
	}
	a := &webAssets{files: map[string]*webAsset{}}
	for _, e := range entries {
		plain, err := fs.ReadFile(web, "web/"+e.Name())
		if err != nil {
			return nil, fmt.Errorf("read the embedded web asset %s: %w", e.Name(), err)
		}
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression) // a valid level cannot fail
		_, _ = zw.Write(plain)                                  // writes to memory cannot fail
		_ = zw.Close()
		sum := sha256.Sum256(plain)
		contentType := mime.TypeByExtension(path.Ext(e.Name()))
		if contentType == "" {
			contentType = "application/octet-stream"
		}
		tag := hex.EncodeToString(sum[:8])
		a.files[e.Name()] = &webAsset{contentType: contentType, plain: plain, gz: gz.Bytes(),
			etag: `"` + tag + `"`, etagGzip: `"` + tag + `-gzip"`}
	}
	if a.files["index.html"] == nil {
		return nil, fmt.Errorf("the embedded web assets lack index.html")
	}
	return a, nil
}

// getPage serves the page, for the overview and every instrument alike:
// the script reads which one from the address.
func (s *Server) getPage(w http.ResponseWriter, r *http.Request, c call) error {
	w.Header().Set("Content-Security-Policy", pageSecurityPolicy)
	w.Header().Set("X-Frame-Options", "DENY")
	serveAsset(w, r, s.web.files["index.html"])
	return nil
}

// getAsset serves the page's script and style sheet.
func (s *Server) getAsset(w http.ResponseWriter, r *http.Request, c call) error {
	name := r.PathValue("name")
	a, ok := s.web.files[name]
	if !ok || name == "index.html" {
		return refuse(http.StatusNotFound, "", "there is no asset %s", domain.Quote(name))
	}
	serveAsset(w, r, a)
	return nil
}

// serve sends an asset, compressed when the browser accepts it, or 304 when
// the browser's copy is current. Browsers revalidate on every load (no-cache),
// so a new binary's assets are never mixed with an old one's.
func serveAsset(w http.ResponseWriter, r *http.Request, a *webAsset) {
	h := w.Header()
	body, etag := a.plain, a.etag
	if acceptsGzip(r) {
		body, etag = a.gz, a.etagGzip
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("ETag", etag)
	h.Set("Cache-Control", "no-cache")
	h.Add("Vary", "Accept-Encoding")
	if r.Header.Get("If-None-Match") == etag {
		h.Del("Content-Encoding")
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", a.contentType)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}
