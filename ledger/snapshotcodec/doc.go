// Package snapshotcodec owns the bytes of a stream's snapshot: the compact
// binary form of a stream's decoded events that the ledger keeps beside
// the records so that a new process need not decode every event's JSON
// again. It encodes and decodes, and checks what it decodes as strictly as
// the JSON decoder does; it knows nothing of stores. When a snapshot is
// saved or loaded, under which names, and whether it matches the chain is
// the ledger's policy (ledger/snapshot.go).
//
// A snapshot is a head and chunks, because most of a stream's events are
// daily closes and a point-in-time question needs only one of them:
//
//   - the head: every event except the closes moved to chunks, with a
//     directory of the chunks (each one's count, effective and recorded
//     bounds, and checksum);
//   - the chunks: ClosesPerChunk closes each, in stream order, that no
//     retraction in the snapshot names, the stream's first close excepted
//     (it may be what fixes the instrument's currency, so the head keeps
//     it).
//
// Each head and chunk holds its distinct strings once, in a table before its
// events, which refer to them by number (the table format; see format in
// encode.go). Snapshots saved before it spelled every string in full (the
// inline format): they still decode, and EncodeLike writes them again.
//
// Every value has exactly one spelling (varints are never overlong, a
// table's strings are distinct and in the order of first use), so the same
// events always encode to the same bytes: `consensus verify` compares a
// stored snapshot with one encoded afresh in its format, byte for byte.
// Snapshots already in users' ledgers must keep decoding:
// TestSnapshotBytesAreStable and TestInlineSnapshotsStillDecode pin the
// bytes of both formats, and a change of format changes the magic's
// version byte.
//
// The layout of each event is written in writer.event and read in
// reader.event; TestExamplesRoundTrip round-trips domain.Examples, one of
// every event type with every field set, so a field or type added to the
// domain without its place here fails a test.
package snapshotcodec
