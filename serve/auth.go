package serve

import (
	"net/http"
	"strings"
)

// access is what a route requires of its caller.
type access int

const (
	// public routes (the page's assets, health, metrics) need no token: they
	// hold no ledger data beyond counts.
	public access = iota
	readAccess
	writeAccess
)

// anonymous is the caller of a server without a token file, which is
// read-only and listens on loopback only.
var anonymous = Principal{Name: "anonymous", Role: RoleRead}

// authorize checks the request's bearer token against what the route needs
// and returns the caller.
func (s *Server) authorize(r *http.Request, need access) (Principal, error) {
	if need == public {
		return Principal{}, nil
	}
	if s.cfg.Tokens == nil {
		if need == writeAccess {
			return Principal{}, refuse(http.StatusForbidden, "",
				"this server is read-only: start it with --tokens FILE to accept writes")
		}
		return anonymous, nil
	}
	header := r.Header.Get("Authorization")
	if header == "" {
		return Principal{}, refuse(http.StatusUnauthorized, "", "this server needs a token: send the header Authorization: Bearer TOKEN")
	}
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return Principal{}, refuse(http.StatusUnauthorized, "", "the Authorization header must read Bearer TOKEN")
	}
	p, ok := s.cfg.Tokens.Lookup(strings.TrimSpace(token))
	if !ok {
		return Principal{}, refuse(http.StatusUnauthorized, "", "the token is not one this server knows")
	}
	if need == writeAccess && p.Role != RoleWrite {
		return Principal{}, refuse(http.StatusForbidden, "", "the token of %s may read but not write", p.Name)
	}
	return p, nil
}
