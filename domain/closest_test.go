package domain_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/consensus-ledger/consensus/domain"
)

func TestClosest(t *testing.T) {
	ids := []string{"j.smith@firm-a", "j.smyth@firm-a", "k.jones@firm-b", "J.Smith@firm-b", "x@y"}
	// One insertion each for the first two; an insertion and a change for the third.
	assert.Equal(t, []string{"j.smith@firm-a", "j.smyth@firm-a", "J.Smith@firm-b"}, domain.Closest("j.smth@firm-a", ids, 3))
	assert.Equal(t, []string{"j.smith@firm-a"}, domain.Closest("j.smth@firm-a", ids, 1))
	assert.Empty(t, domain.Closest("completely-different", ids, 3))
	assert.Equal(t, []string{"x@y"}, domain.Closest("x@z", ids, 3))
}
