package snapshotcodec

import (
	"github.com/google/uuid"

	"github.com/consensus-ledger/consensus/domain"
)

// CloseRef is a close left encoded in a chunk: what choosing the one close a
// question needs takes, and where the event starts, to decode only that one
// (DecodeAt).
type CloseRef struct {
	Offset    int // of the event in the chunk's data
	ID        uuid.UUID
	Version   int64
	Recorded  int64 // Unix nanoseconds
	Effective int64 // Unix nanoseconds
}

// ScanChunk reads a chunk's closes only as far as choosing needs.
func ScanChunk(data []byte) ([]CloseRef, error) {
	r := &reader{}
	if !r.startChunk(data) {
		return nil, ErrMalformed
	}
	n := r.uint()
	if r.err != nil || n > uint64(len(r.buf)) {
		return nil, ErrMalformed
	}
	closes := make([]CloseRef, 0, n)
	for i := uint64(0); i < n && r.err == nil; i++ {
		ref := CloseRef{Offset: len(data) - len(r.buf), ID: r.id(), Version: r.int(), Recorded: r.int()}
		r.skipMetadata()
		if r.byte() != kindClose {
			return nil, ErrMalformed
		}
		r.skipStr() // instrument
		r.int()     // price
		r.skipStr() // currency
		ref.Effective = r.int()
		closes = append(closes, ref)
	}
	if r.err != nil || len(r.buf) != 0 || r.used != len(r.table) {
		return nil, ErrMalformed
	}
	return closes, nil
}

// DecodeAt decodes the event that starts at offset in a chunk's data (a
// CloseRef's Offset).
func DecodeAt(data []byte, offset int) (domain.Recorded, error) {
	r := &reader{}
	if !r.startChunk(data) || offset < len(data)-len(r.buf) || offset > len(data) {
		return domain.Recorded{}, ErrMalformed
	}
	// An event in the middle may refer to any string of the table:
	// ScanChunk checked the order of first use over the whole chunk.
	r.buf, r.used = data[offset:], len(r.table)
	return r.event()
}
