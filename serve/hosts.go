package serve

import (
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/consensus-ledger/consensus/domain"

	"github.com/consensus-ledger/consensus/errkind"
)

// checkHost answers only requests for this machine by name: localhost, a
// loopback address, or a name of Config.AllowedHosts, with any port (a
// port forwarded by ssh -L keeps the name and changes the port). A server
// without tokens answers every reader, so without this a web page of
// another site could have its own name resolve to 127.0.0.1 (DNS
// rebinding) and read the ledger through the browser of anyone who opens
// it: the browser would send that site's name as the Host.
func (s *Server) checkHost(next http.Handler) http.Handler {
	allowed := map[string]bool{"localhost": true}
	for _, name := range s.cfg.AllowedHosts {
		allowed[strings.ToLower(name)] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := hostName(r.Host)
		if allowed[name] || isLoopbackIP(name) {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		rec.Header().Set("X-Request-Id", requestID())
		s.writeError(rec, r, refuse(errkind.Misdirected.Status(), "",
			"this server answers only requests for localhost, 127.0.0.1 or [::1] without a token file, not for the Host %s; "+
				"serve --allow-host NAME adds a name", domain.Quote(r.Host)))
		s.metrics.observe("misdirected", r.Method, rec.status, time.Since(start), false)
	})
}

// hostName is the name of a Host header, in lower case, without its port
// or an IPv6 address's brackets.
func hostName(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	return strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]"))
}

func isLoopbackIP(name string) bool {
	ip := net.ParseIP(name)
	return ip != nil && ip.IsLoopback()
}

// CheckAllowedHosts checks the names of Config.AllowedHosts: host names or
// addresses without a port. They apply to a server without tokens only; a
// server with tokens answers any Host, since every request but the public
// ones needs a token that a rebinding page does not have.
func CheckAllowedHosts(names []string, withTokens bool) error {
	if len(names) > 0 && withTokens {
		return fmt.Errorf("--allow-host applies only without --tokens: with a token file every Host is answered, and reads need a token")
	}
	for _, name := range names {
		if name == "" || strings.ContainsAny(name, ":/[]@ ") || strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") != "" {
			if ip := net.ParseIP(name); ip == nil {
				return fmt.Errorf("--allow-host %s is not a host name or address without a port, such as ledger.internal", domain.Quote(name))
			}
		}
	}
	return nil
}
