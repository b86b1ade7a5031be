package esdb

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTheClientNeverSeesMaxAppendSize checks that the store's own setting
// is taken out of the string the client parses (the client would print a
// warning about it, before any logger of the store's is in place), and
// that every other setting reaches the client as written.
func TestTheClientNeverSeesMaxAppendSize(t *testing.T) {
	assert.Equal(t, "tls=false&nodePreference=follower",
		withoutSetting("tls=false&MaxAppendSize=8&nodePreference=follower&maxappendsize=9", settingMaxAppendSize))
	assert.Equal(t, "", withoutSetting("maxAppendSize=8", settingMaxAppendSize))

	c, err := parseConnectionString("kurrentdb://localhost:2113?maxAppendSize=2097152&tls=false&nodePreference=follower", nil)
	require.NoError(t, err)
	assert.Equal(t, 2097152, c.maxAppendSize)
	assert.True(t, c.cfg.DisableTLS)
	assert.Equal(t, esdb.NodePreferenceFollower, c.cfg.NodePreference)
	assert.Equal(t, "localhost:2113", c.target)
}

// awkwardPassword holds every character a URL gives a meaning to.
const awkwardPassword = "p/a?s@s#w:rd"

// TestRedactHidesTheWholeUserinfo: whatever the password holds, no part of
// it, nor the user name, is left in the redacted string, and the hosts and
// settings stay readable when the string says where they are.
func TestRedactHidesTheWholeUserinfo(t *testing.T) {
	for in, want := range map[string]string{
		"esdb://admin:changeit@node1:2113,node2:2113?tls=true":           "esdb://***@node1:2113,node2:2113?tls=true",
		"kurrentdb://admin@node1:2113":                                   "kurrentdb://***@node1:2113",
		"esdb://admin:" + awkwardPassword + "@node1:2113?tls=false":      "esdb://***@node1:2113?tls=false",
		"esdb://admin:" + awkwardPassword + "@node1:2113":                "esdb://***@node1:2113",
		"esdb://admin:p%2Fa%3Fs%40s%23w%3Ard@node1:2113":                 "esdb://***@node1:2113",
		"esdb://admin:12/ss@node1:2113":                                  "esdb://***@node1:2113",
		"esdb://admin:pa?ss@node1:2113":                                  "esdb://***@node1:2113",
		"esdb://admin:pa?tlsCAFile=x@node1:2113":                         "esdb://***@node1:2113",
		"esdb://node1:2113?tlsCAFile=/a@b/ca.pem":                        "esdb://node1:2113?tlsCAFile=/a@b/ca.pem",
		"esdb://admin:s3cret@node1:2113?tlsCAFile=/a@b/ca.pem":           "esdb://***@node1:2113?tlsCAFile=/a@b/ca.pem",
		"esdb://admin:s3cret@node1:2113?tls=true&userKeyFile=/k@2/u.key": "esdb://***@node1:2113?tls=true&userKeyFile=/k@2/u.key",
		"esdb://node1:2113?tls=false":                                    "esdb://node1:2113?tls=false",
		"./consensus.db":                                                 "./consensus.db",
	} {
		assert.Equal(t, want, Redact(in), in)
	}
}

// TestRedactBoundsItsLength: a string of thousands of hosts is cut to
// MaxEcho characters and an ellipsis.
func TestRedactBoundsItsLength(t *testing.T) {
	spec := "esdb://admin:secret@" + strings.Repeat("node.example.com:2113,", 5000) + "x:1"
	got := Redact(spec)
	assert.Equal(t, MaxEcho+1, utf8.RuneCountInString(got))
	assert.True(t, strings.HasPrefix(got, "esdb://***@node.example.com:2113,"), got)
	assert.True(t, strings.HasSuffix(got, "…"), got)
}

// TestParseRefusesWhatTheClientWouldMisread: ports outside 1..65535 (the
// client reads them modulo 65536), too many hosts, and a password that
// needs percent-encoding are refused in one sentence that quotes no part
// of the password; a percent-encoded one is read as meant.
func TestParseRefusesWhatTheClientWouldMisread(t *testing.T) {
	for spec, want := range map[string]string{
		"esdb://node1:65536":                           `host node1 has port "65536"; a port is a number from 1 to 65535`,
		"esdb://node1:70000?tls=false":                 `host node1 has port "70000"; a port is a number from 1 to 65535`,
		"esdb://node1:0":                               `host node1 has port "0"; a port is a number from 1 to 65535`,
		"esdb://a:2113,node1:-1":                       `host node1 has port "-1"; a port is a number from 1 to 65535`,
		"esdb://node1:+2113":                           `host node1 has port "+2113"; a port is a number from 1 to 65535`,
		"esdb://" + strings.Repeat("n:1,", 64) + "n:1": "it lists 65 hosts; at most 64 are allowed",
		"esdb://admin:" + awkwardPassword + "@node1:2113": "the user name or password holds a character that must be percent-encoded " +
			"(/ as %2F, ? as %3F, # as %23, % as %25, a space as %20), or give them in CONSENSUS_ESDB_USERNAME and CONSENSUS_ESDB_PASSWORD instead",
		"esdb://admin:pa%zzss@node1:2113": "the user name or password holds a character that must be percent-encoded " +
			"(/ as %2F, ? as %3F, # as %23, % as %25, a space as %20), or give them in CONSENSUS_ESDB_USERNAME and CONSENSUS_ESDB_PASSWORD instead",
	} {
		_, err := parseConnectionString(spec, nil)
		require.Error(t, err, spec)
		assert.Equal(t, want, err.Error(), spec)
	}

	c, err := parseConnectionString("esdb://admin:p%2Fa%3Fs%40s%23w%3Ard@node1:2113", nil)
	require.NoError(t, err)
	assert.Equal(t, "admin", c.cfg.Username)
	assert.Equal(t, awkwardPassword, c.cfg.Password)
	assert.Equal(t, "node1:2113", c.target)

	c, err = parseConnectionString("esdb://"+strings.Repeat("node.example.com:2113,", 63)+"n:1", nil)
	require.NoError(t, err, "64 hosts are allowed")
	assert.Len(t, c.cfg.GossipSeeds, 64)
	assert.Equal(t, MaxEcho+utf8.RuneCountInString("… (64 hosts)"), utf8.RuneCountInString(c.target), c.target)
}

// FuzzRedact checks, for any user name, password, hosts and settings, that
// the redacted string holds neither the password nor the user name (when
// they are long enough to be told from the rest), is at most MaxEcho
// characters and an ellipsis, and that parsing never panics nor quotes
// the password in its error.
func FuzzRedact(f *testing.F) {
	f.Add("admin", awkwardPassword, "node1:2113", "tls=false")
	f.Add("admin", "changeit", "node1:2113,node2:2113", "tlsCAFile=/a@b/ca.pem")
	f.Add("a@b", "p?x@y", "h:99999", "")
	f.Add("u", "%zz", "[::1]:2113", "userKeyFile=@")
	f.Fuzz(func(t *testing.T, user, password, hosts, settings string) {
		spec := "esdb://" + user + ":" + password + "@" + hosts
		if settings != "" {
			spec += "?" + settings
		}
		got := Redact(spec)
		assert.LessOrEqual(t, utf8.RuneCountInString(got), MaxEcho+1)
		// The one reading Redact cannot tell apart (see its comment): a
		// password of digits, '?' and a file setting.
		ambiguous := strings.Contains(strings.ToLower(password), "file=")
		secret := user + ":" + password
		if len(password) >= 6 && !ambiguous && !strings.Contains(hosts+"?"+settings, password) {
			assert.NotContains(t, got, password, spec)
			assert.NotContains(t, got, secret, spec)
		}
		_, err := parseConnectionString(spec, nil)
		if err != nil && len(password) >= 6 && !ambiguous && !strings.Contains(hosts+"?"+settings, password) {
			assert.NotContains(t, err.Error(), password, spec)
		}
	})
}
