package sqlite

import "testing"

// TestStatementJournalSpillIsSet checks that SQLite took the larger
// statement journal threshold at start-up: refused, every multi-row insert
// of an import would write its journal to a temporary file again, which
// nothing else would show but the import's speed.
func TestStatementJournalSpillIsSet(t *testing.T) {
	if errSpillConfig != nil {
		t.Fatal(errSpillConfig)
	}
}
