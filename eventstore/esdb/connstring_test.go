package esdb

import (
	"testing"

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
