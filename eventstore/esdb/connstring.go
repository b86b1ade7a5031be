package esdb

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
)

// Environment variables that supply credentials a connection string does
// not carry, so that passwords need not appear in command lines or
// CONSENSUS_STORE.
const (
	EnvUsername = "CONSENSUS_ESDB_USERNAME"
	EnvPassword = "CONSENSUS_ESDB_PASSWORD"
)

// schemes maps every connection string scheme the ledger accepts onto the
// one EventStore-Client-Go v4 parses: KurrentDB is the new name of
// EventStoreDB, and its servers speak the same protocol.
var schemes = []struct{ given, client string }{
	{"esdb://", "esdb://"},
	{"esdb+discover://", "esdb+discover://"},
	{"kurrentdb://", "esdb://"},
	{"kurrentdb+discover://", "esdb+discover://"},
}

// IsConnectionString reports whether spec names an EventStoreDB/KurrentDB
// server rather than a file.
func IsConnectionString(spec string) bool {
	_, ok := clientScheme(spec)
	return ok
}

// clientScheme returns spec with its scheme replaced by the client's.
func clientScheme(spec string) (string, bool) {
	lower := strings.ToLower(spec)
	for _, s := range schemes {
		if strings.HasPrefix(lower, s.given) {
			return s.client + spec[len(s.given):], true
		}
	}
	return "", false
}

// settings lists the connection string settings the client understands,
// in lower case. The client only warns about others; Open refuses them,
// so that a misspelt setting is not silently ignored.
var settings = map[string]bool{
	"tls": true, "tlscafile": true, "tlsverifycert": true, "usercertfile": true, "userkeyfile": true,
	"nodepreference": true, "discoveryinterval": true, "gossiptimeout": true, "maxdiscoverattempts": true,
	"keepaliveinterval": true, "keepalivetimeout": true, "defaultdeadline": true,
}

// Discovery defaults that differ from the client's. The client retries
// discovery 10 times with a 5 s gossip timeout, so an unreachable cluster
// would block a call for most of a minute; three attempts of 3 s keep
// failures within seconds. A connection string's own settings win.
const (
	defaultMaxDiscoverAttempts = 3
	defaultGossipTimeoutSec    = 3
)

// parseConnectionString turns a connection string into the client's
// configuration. Credentials missing from the string are taken from
// EnvUsername and EnvPassword via getenv. target names the server(s) for
// messages, without credentials.
func parseConnectionString(spec string, getenv func(string) string) (cfg *esdb.Configuration, target string, err error) {
	mapped, ok := clientScheme(strings.TrimSpace(spec))
	if !ok {
		return nil, "", errors.New("a connection string starts with esdb://, esdb+discover://, kurrentdb:// or kurrentdb+discover://")
	}
	query := ""
	if i := strings.IndexByte(mapped, '?'); i >= 0 {
		query = mapped[i+1:]
	}
	values, err := url.ParseQuery(query)
	if err != nil {
		return nil, "", fmt.Errorf("settings %q: %w", query, err)
	}
	given := map[string]bool{}
	for k := range values {
		key := strings.ToLower(k)
		if !settings[key] {
			return nil, "", fmt.Errorf("unknown setting %q (known: tls, tlsCAFile, tlsVerifyCert, userCertFile, userKeyFile, nodePreference, maxDiscoverAttempts, discoveryInterval, gossipTimeout, keepAliveInterval, keepAliveTimeout, defaultDeadline)", k)
		}
		given[key] = true
	}
	cfg, err = esdb.ParseConnectionString(mapped)
	if err != nil {
		return nil, "", err
	}
	if !given["maxdiscoverattempts"] {
		cfg.MaxDiscoverAttempts = defaultMaxDiscoverAttempts
	}
	if !given["gossiptimeout"] {
		cfg.GossipTimeout = defaultGossipTimeoutSec
	}
	if cfg.Username == "" && getenv != nil {
		cfg.Username, cfg.Password = getenv(EnvUsername), getenv(EnvPassword)
	}
	return cfg, describeTarget(cfg), nil
}

// describeTarget names the node or the gossip seeds a configuration
// connects to.
func describeTarget(cfg *esdb.Configuration) string {
	if len(cfg.GossipSeeds) == 0 {
		return cfg.Address
	}
	seeds := make([]string, len(cfg.GossipSeeds))
	for i, s := range cfg.GossipSeeds {
		seeds[i] = s.String()
	}
	return strings.Join(seeds, ",")
}

// Redact hides the password of a connection string, for messages.
func Redact(spec string) string {
	scheme, rest, ok := strings.Cut(spec, "://")
	if !ok {
		return spec
	}
	creds, host, ok := strings.Cut(rest, "@")
	if !ok || strings.ContainsAny(creds, "/?") { // an @ in the settings, not credentials
		return spec
	}
	user, _, hasPassword := strings.Cut(creds, ":")
	if !hasPassword {
		return spec
	}
	return scheme + "://" + user + ":***@" + host
}
