package serve

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"github.com/consensus-ledger/consensus/checkpoint"
	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/outfile"
)

// DefaultCheckpointEvery is how often serve writes a checkpoint when
// Config.CheckpointDir is set and CheckpointEvery is not.
const DefaultCheckpointEvery = time.Hour

// checkpointReport is the "last_checkpoint" part of the health answer:
// the last checkpoint written, or why the last attempt failed.
type checkpointReport struct {
	File      *string `json:"file"`       // its name in the checkpoint directory
	Time      *string `json:"time"`       // the ledger as of this recorded time
	WrittenAt *string `json:"written_at"` // when the server wrote it
	Streams   int     `json:"streams"`
	Events    int64   `json:"events"`
	Problem   *string `json:"problem"` // the last attempt's failure, if it failed
}

// checkpointState holds the last checkpointReport.
type checkpointState struct {
	mu   sync.Mutex
	last checkpointReport
}

func (c *checkpointState) set(r checkpointReport) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last = r
}

func (c *checkpointState) get() checkpointReport {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// checkpointLoop writes a checkpoint now and then every CheckpointEvery.
func (s *Server) checkpointLoop(ctx context.Context) {
	for {
		s.checkpointOnce(ctx)
		select {
		case <-ctx.Done():
			return
		case <-time.After(s.cfg.CheckpointEvery):
		}
	}
}

// checkpointOnce signs the stream heads into a new file of the checkpoint
// directory, named by the time it is written and never overwriting one.
// A failure keeps the last good checkpoint in the report, with the
// problem beside it, and fails the health check: anchoring has stopped.
func (s *Server) checkpointOnce(ctx context.Context) {
	now := s.now().UTC()
	// Milliseconds in the name keep two checkpoints a second apart (the
	// shortest interval the command line takes) from colliding, and sort
	// by time as text.
	name := "checkpoint-" + now.Format("20060102T150405.000Z") + ".json"
	report := s.checkpoints.get()
	fail := func(problem string) {
		p := sentence(problem)
		report.Problem = &p
		s.checkpoints.set(report)
		s.log.Error("checkpoint failed", slog.String("file", name), slog.String("error", problem))
	}
	heads, err := s.l.StreamHeads(ctx)
	if ctx.Err() != nil {
		return
	}
	if err != nil {
		fail("cannot list the streams: " + err.Error())
		return
	}
	f, err := checkpoint.Build(heads, s.cfg.CheckpointKey)
	if err != nil {
		fail(err.Error())
		return
	}
	b, err := f.Marshal()
	if err == nil {
		err = outfile.WriteBytes(filepath.Join(s.cfg.CheckpointDir, name), outfile.Options{Flag: "checkpoint", NoForce: true}, b)
	}
	if err != nil {
		fail("cannot write " + name + ": " + err.Error())
		return
	}
	written := domain.FormatTime(now)
	report = checkpointReport{File: &name, Time: &f.Time, WrittenAt: &written, Streams: len(f.Streams)}
	for _, st := range f.Streams {
		report.Events += st.Events
	}
	s.checkpoints.set(report)
	s.log.Info("checkpoint written", slog.String("file", name), slog.Int("streams", report.Streams), slog.Int64("events", report.Events))
}
