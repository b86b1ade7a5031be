package esdb

import (
	"time"

	"github.com/consensus-ledger/consensus/eventstore"
)

// appendMargin is the share of the server's MaxAppendSize the store leaves
// unused (one sixteenth, 64 KiB of the default 1 MiB). AppendBytes counts an
// event as current servers do, but servers have counted differently over
// the years (data alone, then data, metadata and the event type), and a
// batch refused for a few bytes would stop an import.
const appendMargin = 16

// widestRecordedAt is a recorded time that formats as long as any can
// (RFC 3339 with nine fractional digits), so that AppendBytes, which does
// not know the time an append will stamp, never counts short.
var widestRecordedAt = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)

// MaxAppendBytes implements eventstore.AppendLimiter: the server's
// MaxAppendSize (Options.MaxAppendSize or the connection string's
// maxAppendSize setting, 1 MiB by default) less a margin.
func (s *Store) MaxAppendBytes() int {
	return s.maxAppendSize - s.maxAppendSize/appendMargin
}

// AppendBytes implements eventstore.AppendLimiter. The server counts an
// event of an append as its data, its metadata and twice its type's length
// (a UTF-16 string); the metadata is the store's envelope (see
// encodeMetadata), counted here with the widest recorded time, since the
// time is stamped later. Claims and catalog entries are appended apart, so
// they count for nothing.
func (s *Store) AppendBytes(e eventstore.EventData) int {
	meta := encodeMetadata(envelope{RecordedAt: widestRecordedAt, EffectiveAt: e.EffectiveAt, Metadata: e.Metadata, Chain: eventstore.CurrentChain})
	return len(e.Data) + len(meta) + 2*len(e.Type)
}
