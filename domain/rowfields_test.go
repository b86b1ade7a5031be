package domain_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/consensus-ledger/consensus/domain"
)

// Every field name finds its own index, and nothing else is a field.
func TestRowFieldIndex(t *testing.T) {
	for i, name := range domain.RowFieldNames {
		assert.Equal(t, i, domain.RowFieldIndex([]byte(name)), name)
	}
	for _, name := range []string{"", "Type", "ID", "event-id", "typ"} {
		assert.Equal(t, -1, domain.RowFieldIndex([]byte(name)), name)
	}
}

// The values go to the row's fields of the same name.
func TestRowValuesRow(t *testing.T) {
	var v domain.RowValues
	for i, name := range domain.RowFieldNames {
		v[i] = name + "!"
	}
	assert.Equal(t, domain.Row{Type: "type!", Instrument: "instrument!", Analyst: "analyst!", Firm: "firm!",
		Rating: "rating!", Target: "target!", Price: "price!", Currency: "currency!", At: "at!",
		EventID: "event_id!", Reason: "reason!", Ratio: "ratio!"}, v.Row())
}
