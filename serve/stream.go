package serve

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/consensus-ledger/consensus/domain"
	"github.com/consensus-ledger/consensus/eventstore"
	"github.com/consensus-ledger/consensus/ledger"
)

// heartbeat is how often an idle event stream sends a comment, so proxies
// and browsers keep the connection and notice a dead one.
const heartbeat = 15 * time.Second

// streamEvent is one event as the stream sends it: its line of `log
// --json` (retracted_by is null: it is new) with its instrument, the
// rating_action and target_action those of `log --known-at` its recorded_at:
// as known when it was recorded, which a reconnecting client is sent again
// unchanged.
type streamEvent struct {
	Instrument string `json:"instrument"`
	ledger.LogLine
}

// streamEventNoActions is a streamEvent whose actions could not be derived
// (the instrument's history could not be read): these fields, shallower
// than the embedded ones of the same JSON names, win over them in
// encoding/json and, never set, leave both keys out, where a null would
// claim "no action".
type streamEventNoActions struct {
	streamEvent
	RatingAction *string `json:"rating_action,omitempty"`
	TargetAction *string `json:"target_action,omitempty"`
}

// getEventStream sends every event committed from now on as a server-sent
// event whose id is its store position. A client that reconnects with
// Last-Event-ID first gets what it missed, read from the store, so it never
// loses an event; ?instrument=SYMBOL keeps one instrument's events.
func (s *Server) getEventStream(w http.ResponseWriter, r *http.Request, c call) error {
	stream := ""
	if c.has("instrument") {
		sym, err := domain.ParseSymbol(c.get("instrument"))
		if err != nil {
			return refuse(http.StatusBadRequest, "instrument", "instrument %s %s", domain.Quote(c.get("instrument")), symbolReason(err))
		}
		stream = sym.Stream()
	}
	var resume *eventstore.Position
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		pos, err := parsePosition(id)
		if err != nil {
			return refuse(http.StatusBadRequest, "Last-Event-ID", "Last-Event-ID %s", err)
		}
		resume = &pos
	}
	sub, head, err := s.hub.subscribe(stream)
	if errors.Is(err, errNotFollowing) {
		w.Header().Set("Retry-After", "1")
		return refuse(http.StatusServiceUnavailable, "", "%s", err)
	}
	defer s.hub.unsubscribe(sub)
	s.metrics.streamClients.Inc()
	defer s.metrics.streamClients.Dec()

	// A stream lasts as long as its client wants: lift the server's read
	// and write timeouts, which would otherwise cut it after a minute.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Time{})
	_ = rc.SetWriteDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no") // tell a proxy in front not to hold events back
	w.WriteHeader(http.StatusOK)
	out := bufio.NewWriter(w)
	send := func() error {
		if err := out.Flush(); err != nil {
			return err
		}
		return rc.Flush()
	}
	fmt.Fprint(out, "retry: 2000\n: following the ledger's events\n\n")
	if err := send(); err != nil {
		return nil // the client went away; the answer had begun
	}
	if resume != nil {
		if err := s.catchUp(r.Context(), out, *resume, head, stream); err != nil {
			return nil
		}
		if err := send(); err != nil {
			return nil
		}
	}
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	granted := s.tokens()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-sub.done: // shutting down, or this client fell too far behind
			return nil
		case frame := <-sub.frames:
			if s.revoked(r, &granted) {
				return nil
			}
			_, _ = out.Write(frame)
		case <-tick.C:
			if s.revoked(r, &granted) {
				return nil
			}
			fmt.Fprint(out, ": still here\n\n")
		}
		if err := send(); err != nil {
			return nil
		}
	}
}

// revoked reports whether the token a stream was opened with is no longer
// granted read access, once the token file was reloaded (granted is the
// set the stream last checked against): a revoked token stops receiving
// events at the next one rather than when its client disconnects.
func (s *Server) revoked(r *http.Request, granted **Tokens) bool {
	current := s.tokens()
	if current == *granted {
		return false
	}
	*granted = current
	_, err := s.authorize(r, readAccess)
	return err != nil
}

// catchUp sends the records after from up to and including head (where the
// live subscription starts), read from the store.
func (s *Server) catchUp(ctx context.Context, out *bufio.Writer, from, head eventstore.Position, stream string) error {
	for from.Less(head) {
		recs, err := s.store.ReadAll(ctx, from, pollPage)
		if err != nil {
			s.metrics.storeErrors.WithLabelValues("read").Inc()
			return err
		}
		if len(recs) == 0 {
			return nil
		}
		for _, rec := range recs {
			if head.Less(rec.Position) {
				return nil // the live subscription has it
			}
			if stream == "" || rec.Stream == stream {
				_, _ = out.Write(s.streamFrame(ctx, rec))
			}
			from = rec.Position
		}
		if err := out.Flush(); err != nil {
			return err
		}
	}
	return nil
}

// streamFrame is one record as a server-sent event, whose id is its store
// position, made once for every live subscriber (the hub's frame) and for a
// client catching up. Records that are not instrument events, or cannot be
// decoded, make no frame (nil): the stream is for people and tools
// following the ledger, and `consensus verify` reports damaged records.
func (s *Server) streamFrame(ctx context.Context, rec eventstore.Record) []byte {
	sym, ok := domain.SymbolOfStream(rec.Stream)
	if !ok {
		return nil
	}
	var meta domain.Metadata
	if len(rec.Metadata) > 0 && json.Unmarshal(rec.Metadata, &meta) != nil {
		return nil
	}
	data := json.RawMessage(rec.Data)
	if !json.Valid(data) {
		return nil
	}
	ev := streamEvent{Instrument: string(sym), LogLine: ledger.LogLine{Version: rec.Version, EventID: rec.ID.String(),
		Type: rec.Type, EffectiveAt: domain.FormatTime(rec.EffectiveAt), RecordedAt: domain.FormatTime(rec.RecordedAt),
		RecordedBy: meta.RecordedBy, Source: meta.Source, Data: data}}
	var body []byte
	actions, err := s.l.EventActions(ctx, rec, rec.RecordedAt)
	if err == nil {
		ev.LogLine.SetActions(actions)
		body, err = json.Marshal(ev)
	} else {
		s.log.Warn("event stream: cannot derive the actions of an event; sending it without them",
			slog.String("event_id", rec.ID.String()), slog.Any("error", err))
		body, err = json.Marshal(streamEventNoActions{streamEvent: ev})
	}
	if err != nil {
		return nil
	}
	return fmt.Appendf(nil, "id: %s\ndata: %s\n\n", formatPosition(rec.Position), body)
}
