// Package esdb is the ledger's event store on an EventStoreDB or KurrentDB
// server or cluster, through EventStore-Client-Go v4 over gRPC.
//
// # Streams and events
//
// Every ledger stream is a server stream of the same name (one per
// instrument, instrument-<SYMBOL>), and every record one server event: the
// record's id is the event id, its type the event type, its data the event
// data byte for byte (content type application/json when it is JSON, as the
// ledger's is, so the server's UI and projections read it). Versions are
// the server's stream revisions, from 0, and a record's Position is the
// event's commit and prepare positions in $all. The expected versions of
// eventstore map exactly: NoStream to NoStream, a version to that
// revision, Any to Any; the server's WrongExpectedVersion becomes
// eventstore.ErrWrongVersion.
//
// # Metadata
//
// What the server has no field for travels in the event's metadata, one
// JSON object (see encodeMetadata):
//
//	{"consensus":2,"recorded_at":"2025-09-12T08:00:00.123456Z",
//	 "effective_at":"2025-09-11T23:59:59.999999999Z",
//	 "prev_hash":"<64 hex digits>","hash":"<64 hex digits>",
//	 "metadata":{"recorded_by":"…","source":"…"}}
//
// recorded_at is assigned here, inside Append, from Options.Now truncated
// to microseconds and never earlier than the stream's last record (an
// append is refused when that record is more than eventstore.MaxClockLead
// ahead of the clock); the hash chain is computed with eventstore.RecordHash
// exactly as the embedded store does, and "consensus" is the record's chain
// version (1 or 2), so a ledger copied between backends verifies against the
// same chain heads and checkpoints. The ledger's own metadata is embedded as JSON, or as
// metadata_base64 when it is not JSON. Records that lack this envelope in a
// ledger stream were not written by the ledger and are refused
// (eventstore.ErrNotLedger).
//
// # Idempotency by event id: claim streams
//
// The server's own duplicate detection remembers recent writes only, which
// is not enough for a backfill re-run days later, and the server has no
// index by event id. So the store keeps one: every id is claimed in its own
// small stream, consensus-id-<uuid>, whose events say where the id is
// stored ({"stream": …, "version": …}). Before a batch is appended each id
// is claimed for the version it will get, the first claim expecting no
// stream, so that of two writers claiming a new id exactly one succeeds;
// a writer that loses reads the claims and checks each against the stream
// it names:
//
//   - the record there has the id: the id is stored, and the batch is a
//     replay (AppendResult.Replayed) if every event is stored identically
//     in this stream, in order, and an eventstore.ErrDuplicateID otherwise;
//   - another record is there: the claim is stale (its append lost a race
//     or was refused) and is superseded;
//   - nothing is there yet: the claim is pending. For the same stream it is
//     superseded too: both appends expect the head they read, so at most
//     one of them can succeed. For another stream the id is refused with
//     ErrDuplicateID, since that append may still succeed.
//
// Claims are written before the batch, never after, so a crash can leave a
// claim without its event (pending, then stale once the stream grows past
// it) but never an event without its claim. Find reads one claim stream
// and the record it points at.
//
// The trade-off: one claim event per ledger event, and one small stream
// per event id, so the server holds twice as many events and many streams;
// and an append costs, besides the append itself, a read of the stream's
// head, one claim per event (sent 32 at a time) and a read of the
// appended records (for their positions). A claim left pending by an
// append to another stream that was interrupted blocks its id until that
// stream grows past the claimed version or the same append is run again.
//
// # Reading
//
// ReadStream reads forwards in pages of 1024 events. ReadAll and
// SubscribeAll read $all through the server's stream-prefix filter
// (Options.StreamPrefixes, instrument- by default), which skips the
// claims, the catalog and system events on the server. The client offers
// filters only on subscriptions, so ReadAll is a filtered catch-up
// subscription left at its CaughtUp message (servers 23.10 and later); on
// older servers it reads $all unfiltered in pages and filters here.
// SubscribeAll is the same subscription left running, renewed from the
// last record delivered when the connection drops.
//
// Streams lists the ledger's streams (those with the stream prefixes) from
// a catalog, consensus-streams, with one event per stream written before
// the stream's first append, and reads each stream's last record for its
// count, time and hash.
//
// # Connection
//
// Connection strings are the client's (esdb://, esdb+discover://);
// kurrentdb:// and kurrentdb+discover:// are accepted as the same. TLS,
// certificates and node preference come from the string's settings;
// credentials from the string or, when it has none, from
// CONSENSUS_ESDB_USERNAME and CONSENSUS_ESDB_PASSWORD (the client sends
// them over TLS only). Every call runs under a deadline (Options.Timeout)
// and Open contacts the server within Options.ConnectTimeout, so an
// unreachable server is one error within seconds, never a hang.
//
// # Append size
//
// The server refuses an append larger than its MaxAppendSize (1 MiB by
// default), counting each event's data, metadata and twice its type's
// length. The store implements eventstore.AppendLimiter so that imports and
// copies cut their batches to fit: AppendBytes counts an event as the
// server will (the envelope above included) and MaxAppendBytes is the
// server's limit less a sixteenth. The limit is the connection string's
// maxAppendSize setting (taken out before the client parses the string),
// else Options.MaxAppendSize, else the server's default; a server
// configured with a smaller one needs the setting.
//
// The server cannot append to several streams atomically, so the store
// does not offer eventstore.BatchAppender; nor does it keep snapshots.
package esdb
