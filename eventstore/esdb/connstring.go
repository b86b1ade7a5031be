package esdb

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
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

// settingMaxAppendSize is the store's own setting, in lower case: the
// server's MaxAppendSize in bytes (see Options.MaxAppendSize). It is taken
// out of the string before the client parses it, since the client would
// log a warning about a setting it does not know.
const settingMaxAppendSize = "maxappendsize"

// Discovery defaults that differ from the client's. The client retries
// discovery 10 times with a 5 s gossip timeout, so an unreachable cluster
// would block a call for most of a minute; three attempts of 3 s keep
// failures within seconds. A connection string's own settings win.
const (
	defaultMaxDiscoverAttempts = 3
	defaultGossipTimeoutSec    = 3
)

// connection is a parsed connection string.
type connection struct {
	cfg    *esdb.Configuration // the client's configuration
	target string              // the server(s), without credentials, for messages
	// maxAppendSize is the maxAppendSize setting, 0 when the string has
	// none.
	maxAppendSize int
}

// parseConnectionString turns a connection string into the client's
// configuration and the store's own settings. Credentials missing from the
// string are taken from EnvUsername and EnvPassword via getenv.
func parseConnectionString(spec string, getenv func(string) string) (connection, error) {
	mapped, ok := clientScheme(strings.TrimSpace(spec))
	if !ok {
		return connection{}, errors.New("a connection string starts with esdb://, esdb+discover://, kurrentdb:// or kurrentdb+discover://")
	}
	if err := checkAuthority(mapped[strings.Index(mapped, "://")+3:]); err != nil {
		return connection{}, err
	}
	base, query, _ := strings.Cut(mapped, "?")
	values, err := url.ParseQuery(query)
	if err != nil {
		return connection{}, fmt.Errorf("settings %q: %w", bound(query, 60), err)
	}
	var c connection
	given := map[string]bool{}
	for k, v := range values {
		key := strings.ToLower(k)
		switch {
		case key == settingMaxAppendSize:
			if c.maxAppendSize, err = strconv.Atoi(v[len(v)-1]); err != nil || c.maxAppendSize <= 0 {
				return connection{}, fmt.Errorf("setting %s=%q: the server's MaxAppendSize is a positive number of bytes, such as 1048576", k, bound(v[len(v)-1], 20))
			}
		case !settings[key]:
			return connection{}, fmt.Errorf("unknown setting %q (known: tls, tlsCAFile, tlsVerifyCert, userCertFile, userKeyFile, nodePreference, maxDiscoverAttempts, discoveryInterval, gossipTimeout, keepAliveInterval, keepAliveTimeout, defaultDeadline, maxAppendSize)", bound(k, 40))
		}
		given[key] = true
	}
	if given[settingMaxAppendSize] {
		mapped = base
		if q := withoutSetting(query, settingMaxAppendSize); q != "" {
			mapped += "?" + q
		}
	}
	if c.cfg, err = esdb.ParseConnectionString(mapped); err != nil {
		// The net/url error quotes the whole string, password included;
		// its reason alone is enough next to the redacted string.
		var urlErr *url.Error
		if errors.As(err, &urlErr) {
			err = urlErr.Err
		}
		return connection{}, err
	}
	if !given["maxdiscoverattempts"] {
		c.cfg.MaxDiscoverAttempts = defaultMaxDiscoverAttempts
	}
	if !given["gossiptimeout"] {
		c.cfg.GossipTimeout = defaultGossipTimeoutSec
	}
	if c.cfg.Username == "" && getenv != nil {
		c.cfg.Username, c.cfg.Password = getenv(EnvUsername), getenv(EnvPassword)
	}
	c.target = describeTarget(c.cfg)
	return c, nil
}

// withoutSetting removes every occurrence of a setting (named in lower case)
// from a query, leaving the others as they were written.
func withoutSetting(query, name string) string {
	var kept []string
	for _, kv := range strings.Split(query, "&") {
		k, _, _ := strings.Cut(kv, "=")
		if key, err := url.QueryUnescape(k); err == nil && strings.ToLower(key) == name {
			continue
		}
		kept = append(kept, kv)
	}
	return strings.Join(kept, "&")
}

// describeTarget names the node or the gossip seeds a configuration
// connects to, within MaxEcho characters: every error of the store names
// it.
func describeTarget(cfg *esdb.Configuration) string {
	if len(cfg.GossipSeeds) == 0 {
		return bound(cfg.Address, MaxEcho)
	}
	seeds := make([]string, len(cfg.GossipSeeds))
	for i, s := range cfg.GossipSeeds {
		seeds[i] = s.String()
	}
	joined := strings.Join(seeds, ",")
	if len(joined) > MaxEcho {
		return fmt.Sprintf("%s (%d hosts)", bound(joined, MaxEcho), len(seeds))
	}
	return joined
}
