package serve

import (
	"net/http"
	"strings"
)

// access is what a route requires of its caller.
type access int

const (
	// public routes (the page, its assets, the OpenAPI document) need no
	// token: they hold no ledger data.
	public access = iota
	// statusAccess routes answer anyone, and tell a reader more: with
	// tokens, the health check says to others only whether the server is
	// healthy, not what the ledger holds.
	statusAccess
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
	tokens := s.tokens()
	if tokens == nil {
		if need == writeAccess {
			return Principal{}, refuse(http.StatusForbidden, "",
				"this server is read-only: start it with --tokens FILE to accept writes")
		}
		return anonymous, nil
	}
	header := r.Header.Get("Authorization")
	if header == "" && need == statusAccess {
		return Principal{}, nil
	}
	if header == "" {
		return Principal{}, refuse(http.StatusUnauthorized, "", "this server needs a token: send the header Authorization: Bearer TOKEN")
	}
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return Principal{}, refuse(http.StatusUnauthorized, "", "the Authorization header must read Bearer TOKEN")
	}
	p, ok := tokens.Lookup(strings.TrimSpace(token))
	if !ok {
		return Principal{}, refuse(http.StatusUnauthorized, "", "the token is not one this server knows")
	}
	if need == writeAccess && p.Role != RoleWrite {
		return Principal{}, refuse(http.StatusForbidden, "", "the token of %s may read but not write", p.Name)
	}
	return p, nil
}

// tokens is the token set in force: the token file's latest good one, or
// the fixed set of Config.Tokens; nil when the server has none.
func (s *Server) tokens() *Tokens {
	if s.cfg.TokenFile != nil {
		return s.cfg.TokenFile.Tokens()
	}
	return s.cfg.Tokens
}

// hasTokens reports whether the server grants access by token. It never
// changes while the server runs: a reload replaces one set by another.
func (s *Server) hasTokens() bool { return s.cfg.TokenFile != nil || s.cfg.Tokens != nil }
