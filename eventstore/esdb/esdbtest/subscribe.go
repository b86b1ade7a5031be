package esdbtest

import (
	"github.com/google/uuid"

	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
)

// subscribe serves a catch-up subscription to $all, as servers from 23.10
// on do: a confirmation, every stored record after the start (filtered),
// with a checkpoint every filter window of records considered, one
// CaughtUp message, then each new record as it is committed, until the
// client goes away.
//
// From a position P the subscription reads the first record at or after P
// and starts after it, as the server's AllSubscription does: from a
// record's own position that record is skipped, and so is the next record
// from a position between two records.
func (s *streamsService) subscribe(srv api.Streams_ReadServer, o *api.ReadReq_Options_AllOptions, f *filter, enc encoder) error {
	if p := o.GetPosition(); p != nil {
		if err := checkPosition(p.GetCommitPosition(), p.GetPreparePosition()); err != nil {
			return err
		}
	}
	confirm := &api.ReadResp{Content: &api.ReadResp_Confirmation{
		Confirmation: &api.ReadResp_SubscriptionConfirmation{SubscriptionId: uuid.NewString()},
	}}
	if err := srv.Send(confirm); err != nil {
		return err
	}
	next, minPos := 0, uint64(0)
	switch {
	case o.GetStart() != nil:
	case o.GetEnd() != nil:
		next = s.m.logLen()
	default:
		p := o.GetPosition()
		s.m.mu.Lock()
		i := s.m.firstAtOrAfter(p.GetCommitPosition(), p.GetPreparePosition())
		next = min(i+1, len(s.m.all))
		s.m.mu.Unlock()
		minPos = p.GetCommitPosition()
	}

	ctx := srv.Context()
	caughtUp, considered := false, 0
	for {
		recs, changed := s.m.snapshot(next)
		for _, r := range recs {
			next++
			if r.pos < minPos {
				continue
			}
			considered++
			if f.allows(r) {
				if err := srv.Send(enc.event(r, true)); err != nil {
					return err
				}
			}
			if f != nil && considered >= f.window {
				considered = 0
				cp := &api.ReadResp{Content: &api.ReadResp_Checkpoint_{Checkpoint: &api.ReadResp_Checkpoint{
					CommitPosition: r.pos, PreparePosition: r.pos,
				}}}
				if err := srv.Send(cp); err != nil {
					return err
				}
			}
		}
		if !caughtUp {
			caughtUp = true
			if err := srv.Send(&api.ReadResp{Content: &api.ReadResp_CaughtUp_{CaughtUp: &api.ReadResp_CaughtUp{}}}); err != nil {
				return err
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}
