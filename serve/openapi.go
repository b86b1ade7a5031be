package serve

import (
	_ "embed"
	"net/http"
)

// openAPIDocument describes every route of the server. It is written by
// hand beside the handlers, and a test checks that it names exactly the
// routes and query parameters the server has.
//
//go:embed openapi.json
var openAPIDocument []byte

func (s *Server) getOpenAPI(w http.ResponseWriter, r *http.Request, _ call) error {
	writeCompressible(w, r, http.StatusOK, "application/json", openAPIDocument)
	return nil
}
