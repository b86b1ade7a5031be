package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/projections"
)

// TestTextOutputEscapesHiddenCharacters: free text stored before writes
// refused control characters, or by another tool, is printed escaped, so an
// escape sequence in a reason cannot clear or rewrite an auditor's screen.
func TestTextOutputEscapesHiddenCharacters(t *testing.T) {
	assert.Equal(t, "typo in target – fixed", forTerminal("typo in target – fixed"))
	assert.Equal(t, `a\x1b[2Jb\r\tc\u202ed`, forTerminal("a\x1b[2Jb\r\tc\u202ed"))

	line := describe(domain.EventRetracted{Reason: "oops\x1b[2J"})
	assert.NotContains(t, line, "\x1b")
	assert.Contains(t, line, `oops\x1b[2J`)

	var out strings.Builder
	printExplain(&out, projections.Consensus{Explain: []projections.AnalystExplain{{
		Analyst: "a@f", Firm: "F", Rating: "buy", BrokerRating: "buy\x1b[8m", Status: "counted",
		Reason: "counted\x07", Notes: []string{"retracted: \x1b]0;title\x07"},
	}}})
	assert.NotContains(t, out.String(), "\x1b")
	assert.NotContains(t, out.String(), "\x07")
	assert.Contains(t, out.String(), `retracted: \x1b]0;title\a`)
}
