package serve

import (
	"context"
	"log/slog"
	"time"
)

// DefaultSnapshotInterval is how often a writable server saves the stream
// snapshots that are due (Config.SnapshotInterval).
const DefaultSnapshotInterval = time.Minute

// snapshotLoop saves, every SnapshotInterval until ctx is done, the
// snapshots due on the streams the ledger holds. Questions never save one
// (a read that writes queues behind any writer's lock and cannot be
// cancelled meanwhile), and the server's own writes save theirs, but the
// streams it answers about also grow through other processes' writes. It
// runs only over a store it can write.
func (s *Server) snapshotLoop(ctx context.Context) {
	every := s.cfg.SnapshotInterval
	if every == 0 {
		every = DefaultSnapshotInterval
	}
	if every < 0 || !s.l.SavesSnapshots() {
		return
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		saved, err := s.l.SaveDueSnapshots(ctx)
		if err != nil && ctx.Err() == nil {
			// A snapshot only saves time; the next round tries again.
			s.log.Warn("cannot save stream snapshots", slog.Int("saved", saved), slog.Any("error", err))
		}
	}
}
