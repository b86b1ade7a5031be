package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"time"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/ledger"
)

// printChain writes `log SYMBOL --chain`: one line per event, its fields
// separated by tabs, in the order the hash covers them (docs/events.md):
//
//	version  chain  event_id  type  effective_at  recorded_at  prev_hash  hash  data_hex  metadata_hex
//
// Times are as hashed (RFC 3339, UTC, fraction without trailing zeros);
// data and metadata are the stored bytes in hex, so that a script of
// printf and sha256sum recomputes every hash without a JSON parser, and
// without trusting the ledger's own decoding of them.
func printChain(ctx context.Context, w io.Writer, l *ledger.Ledger, sym domain.Symbol) error {
	recs, err := l.ChainRecords(ctx, sym)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(w)
	for _, r := range recs {
		fmt.Fprintf(bw, "%d\t%d\t%s\t%s\t%s\t%s\t%x\t%x\t%s\t%s\n", r.Version, r.Chain, r.ID, r.Type,
			r.EffectiveAt.UTC().Format(time.RFC3339Nano), r.RecordedAt.UTC().Format(time.RFC3339Nano),
			r.PrevHash[:], r.Hash[:], hex.EncodeToString(r.Data), hex.EncodeToString(r.Metadata))
	}
	return bw.Flush()
}
