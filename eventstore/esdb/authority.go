package esdb

import (
	"fmt"
	"strconv"
	"strings"
)

// MaxHosts bounds the hosts of a connection string. A cluster has a few
// nodes; thousands of hosts are a mistake or an attack, and each would be
// dialled in turn.
const MaxHosts = 64

// maxHostLength is the longest DNS name (RFC 1035) plus room for a port.
const maxHostLength = 253 + len(":65535")

// checkAuthority checks the user-info part and the hosts of a connection
// string (rest, the text after its "://") before the client library parses
// it. The library would quote a malformed password in its errors, read a
// port above 65535 modulo 65536 and accept any number of hosts; the
// messages here never quote the user-info part.
func checkAuthority(rest string) error {
	if at, ok := userinfoEnd(rest); ok {
		if err := checkUserinfo(rest[:at]); err != nil {
			return err
		}
		rest = rest[at+1:]
	}
	if end := strings.IndexAny(rest, "/?#"); end >= 0 {
		rest = rest[:end]
	}
	if rest == "" {
		return nil // the library says that there is no host
	}
	hosts := strings.Split(rest, ",")
	if len(hosts) > MaxHosts {
		return fmt.Errorf("it lists %d hosts; at most %d are allowed", len(hosts), MaxHosts)
	}
	for _, h := range hosts {
		if len(h) > maxHostLength {
			return fmt.Errorf("host %q is longer than %d characters", bound(h, 40), maxHostLength)
		}
		name, port, ok := strings.Cut(h, ":")
		if !ok || strings.Contains(port, ":") || strings.HasPrefix(name, "[") {
			continue // no port, or a form the library refuses in its own words
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 || strings.Trim(port, "0123456789") != "" {
			return fmt.Errorf("host %s has port %q; a port is a number from 1 to 65535", name, port)
		}
	}
	return nil
}

// checkUserinfo refuses a user-info part the client library would
// misread, without saying anything of what it holds: a URL needs '/', '?',
// '#', spaces and other characters of a password percent-encoded.
func checkUserinfo(userinfo string) error {
	for i := 0; i < len(userinfo); i++ {
		c := userinfo[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', strings.IndexByte("-._:~!$&'()*+,;=@", c) >= 0:
		case c == '%' && i+2 < len(userinfo) && isHex(userinfo[i+1]) && isHex(userinfo[i+2]):
			i += 2
		default:
			return fmt.Errorf("the user name or password holds a character that must be percent-encoded (/ as %%2F, ? as %%3F, # as %%23, %% as %%25, a space as %%20), or give them in %s and %s instead", EnvUsername, EnvPassword)
		}
	}
	return nil
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
