package snapshotcodec

import "github.com/consensus-ledger/consensus/domain"

// EncodeHeadInline and EncodeChunkInline write the inline format, which
// the package only writes again through EncodeLike: the fuzz target holds
// what decodes in either format to one spelling.
func EncodeHeadInline(h Head) []byte {
	return encodeHead(h.Total, h.Chunks, h.Events, nil, inline)
}

func EncodeChunkInline(closes []domain.Recorded) []byte {
	return encodeChunk(closes, inline)
}
