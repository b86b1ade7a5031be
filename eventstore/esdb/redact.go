package esdb

import (
	"strings"
	"unicode/utf8"
)

// MaxEcho bounds how much of a connection string, or of the servers it
// names, a message repeats: a string of thousands of hosts would otherwise
// make an error line of a hundred kilobytes.
const MaxEcho = 200

// fileSettings are the settings whose values are file paths, the only
// settings in which an '@' can stand without ending a user-info part.
var fileSettings = map[string]bool{"tlscafile": true, "usercertfile": true, "userkeyfile": true}

// Redact is a connection string as messages may show it: the whole
// user-info part (user name and password) replaced by ***, and the rest
// cut to MaxEcho characters. It is the one function every error and log
// line of the ledger passes a connection string through. A string without
// "://" (a file path) is returned unchanged.
//
// The user-info part ends at the last '@' that does not stand in the
// value of a file setting (tlsCAFile, userCertFile, userKeyFile). So a
// password holding '/', '?', '#', ':' or '@', which a URL would need
// percent-encoded, is hidden whole all the same, even though the client
// library would read part of it as a path, settings or a fragment. The one
// string it cannot tell from a valid one without credentials is a
// password that is all digits followed by '?' and a file setting, after a
// user name that reads as a host name.
func Redact(spec string) string {
	i := strings.Index(spec, "://")
	if i < 0 {
		return spec
	}
	rest := spec[i+3:]
	if at, ok := userinfoEnd(rest); ok {
		rest = "***" + rest[at:]
	}
	return bound(spec[:i+3]+rest, MaxEcho)
}

// userinfoEnd returns the index in rest (a connection string after its
// "://") of the '@' that ends its user-info part, if it has one.
func userinfoEnd(rest string) (int, bool) {
	query := strings.IndexByte(rest, '?')
	// When the hosts before the settings are not well formed, the string is
	// wrong anyway, and a password holding '?' may be what broke it: every
	// '@' then counts, the safe reading.
	broken := false
	if query >= 0 {
		hosts := rest[:query]
		hosts = hosts[strings.LastIndexByte(hosts, '@')+1:]
		broken = !plausibleHosts(hosts)
	}
	for at := strings.LastIndexByte(rest, '@'); at >= 0; at = strings.LastIndexByte(rest[:at], '@') {
		if broken || query < 0 || at < query || !inFileSetting(rest[query+1:at]) {
			return at, true
		}
	}
	return 0, false
}

// inFileSetting reports whether the end of settings (the text between a
// '?' and an '@') is inside the value of a file setting.
func inFileSetting(settings string) bool {
	last := settings[strings.LastIndexByte(settings, '&')+1:]
	key, _, ok := strings.Cut(last, "=")
	return ok && fileSettings[strings.ToLower(key)]
}

// plausibleHosts reports whether s reads as the hosts of a connection
// string: HOST or HOST:PORT entries separated by commas, optionally
// followed by a single '/'.
func plausibleHosts(s string) bool {
	s = strings.TrimSuffix(s, "/")
	if s == "" {
		return false
	}
	for _, entry := range strings.Split(s, ",") {
		host, port, hasPort := strings.Cut(entry, ":")
		if host == "" || strings.Trim(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_") != "" {
			return false
		}
		if hasPort && (port == "" || strings.Trim(port, "0123456789") != "") {
			return false
		}
	}
	return true
}

// bound cuts s to at most limit characters, marking a cut with an
// ellipsis.
func bound(s string, limit int) string {
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	n := 0
	for i := range s {
		if n == limit {
			return s[:i] + "…"
		}
		n++
	}
	return s
}
