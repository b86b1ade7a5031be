package backfill

import "github.com/consensus-ledger/consensus/ledger"

// LedgerCache is the bound of the ledger cache an import's own ledger (the
// command line's) is made with. An import works through the instruments
// one at a time and never asks about one again, so the cache need hold
// little more than the instruments of the batch being appended (kept so
// that a snapshot that falls due is saved after the append); the one being
// planned is kept whatever its size. Memory then stays bounded by that
// instrument's history plus this, whatever the file's size. A server's
// import shares the server's ledger and its bound.
var LedgerCache = ledger.CacheBounds{MaxEvents: 1 << 16}
