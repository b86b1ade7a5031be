package checkpoint_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/consensus-ledger/consensus/checkpoint"
	"github.com/consensus-ledger/consensus/eventstore"
)

// BenchmarkBuild signs a checkpoint of 20,000 streams (the generated
// ledger of 5,000 instruments has 5,000; a large firm's tens of
// thousands): sorting, the root and one signature. With the listing of the
// stream heads (BenchmarkStreams in eventstore/sqlite) it is all a
// checkpoint costs, whatever the number of events.
func BenchmarkBuild(b *testing.B) {
	priv, _ := newKey(b)
	infos := make([]eventstore.StreamInfo, 20000)
	at := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	for i := range infos {
		infos[i] = eventstore.StreamInfo{Stream: fmt.Sprintf("instrument-S%05d", (i*7919)%len(infos)), Events: int64(i + 1),
			Version: int64(i), LastRecordedAt: at, LastHash: [32]byte{byte(i), byte(i >> 8)}}
	}
	b.ReportAllocs()
	for b.Loop() {
		f, err := checkpoint.Build(infos, priv)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := f.Marshal(); err != nil {
			b.Fatal(err)
		}
	}
}
