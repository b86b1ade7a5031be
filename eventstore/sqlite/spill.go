package sqlite

import (
	"fmt"

	"modernc.org/libc"
	sqlite3 "modernc.org/sqlite/lib"
)

// statementJournalSpill is how many bytes of a statement journal SQLite
// holds in memory before it writes the journal to a temporary file
// (SQLITE_CONFIG_STMTJRNL_SPILL; SQLite's own default is 64 KiB).
//
// An INSERT of many rows into events keeps a statement journal, because
// the table's CHECK constraints call a function, and a statement that
// touches eight or more pages (8 KiB each, plus a 4-byte page number)
// passed 64 KiB. Once a statement journal has spilled, SQLite keeps
// writing it to the file for the rest of the transaction: a million-row
// import wrote 662 MB to such files, more than the ledger itself. At 1 MiB
// no insert of insertChunk rows spills, and a statement that changes more
// than 128 pages that existed before it (the merge of a tail into
// event_ids) still spills to a file, so memory stays bounded by 1 MiB a
// connection.
const statementJournalSpill = 1 << 20

// errSpillConfig is why SQLite refused statementJournalSpill, or nil.
// SQLite takes process-wide settings only before it is initialised, which
// happens at the first connection, so this runs at package
// initialisation; a refusal leaves SQLite's default, which is slower but
// as safe, and a test holds it to nil.
var errSpillConfig = configureSpill()

func configureSpill() error {
	tls := libc.NewTLS()
	defer tls.Close()
	args := libc.Xmalloc(tls, 8)
	if args == 0 {
		return fmt.Errorf("sqlite: no memory for the statement journal setting")
	}
	defer libc.Xfree(tls, args)
	rc := sqlite3.Xsqlite3_config(tls, sqlite3.SQLITE_CONFIG_STMTJRNL_SPILL, libc.VaList(args, int32(statementJournalSpill)))
	if rc != sqlite3.SQLITE_OK {
		return fmt.Errorf("sqlite: statement journal setting refused (code %d)", rc)
	}
	return nil
}
