package esdbtest

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"strconv"

	"github.com/google/uuid"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
	api "github.com/EventStore/EventStore-Client-Go/v4/protos/streams"
)

// streamsService is the event_store.client.streams.Streams service.
type streamsService struct {
	api.UnimplementedStreamsServer
	m *model
}

// Read serves stream reads, $all reads and $all subscriptions.
func (s *streamsService) Read(req *api.ReadReq, srv api.Streams_ReadServer) error {
	o := req.GetOptions()
	if o == nil {
		return status.Error(codes.InvalidArgument, "read request without options")
	}
	f, err := newFilter(o.GetFilter())
	if err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	enc := encoder{stringIDs: o.GetUuidOption().GetString_() != nil}
	backwards := o.GetReadDirection() == api.ReadReq_Options_Backwards

	if o.GetSubscription() != nil {
		if o.GetAll() == nil || backwards {
			return status.Error(codes.Unimplemented, "the test server models subscriptions to $all only")
		}
		return s.subscribe(srv, o.GetAll(), f, enc)
	}
	switch {
	case o.GetStream() != nil:
		if f != nil {
			return status.Error(codes.InvalidArgument, "a stream read takes no filter")
		}
		return s.readStream(srv, o.GetStream(), backwards, o.GetCount(), enc)
	case o.GetAll() != nil:
		return s.readAll(srv, o.GetAll(), backwards, o.GetCount(), f, enc)
	}
	return status.Error(codes.InvalidArgument, "read request names neither a stream nor $all")
}

func (s *streamsService) readStream(srv api.Streams_ReadServer, o *api.ReadReq_Options_StreamOptions, backwards bool, count uint64, enc encoder) error {
	name := string(o.GetStreamIdentifier().GetStreamName())
	recs, found, err := s.m.readStream(name, o.GetRevision(), o.GetEnd() != nil, backwards, count)
	if err != nil {
		return s.fail(srv, err)
	}
	if !found {
		return srv.Send(&api.ReadResp{Content: &api.ReadResp_StreamNotFound_{StreamNotFound: &api.ReadResp_StreamNotFound{
			StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(name)},
		}}})
	}
	for _, r := range recs {
		if err := srv.Send(enc.event(r, false)); err != nil {
			return err
		}
	}
	return nil
}

// readAll reads $all. A forward read from a position includes the record
// at that position (positions are "pre-positions"); a backward read from a
// position starts with the record before it.
func (s *streamsService) readAll(srv api.Streams_ReadServer, o *api.ReadReq_Options_AllOptions, backwards bool, count uint64, f *filter, enc encoder) error {
	recs, _ := s.m.snapshot(0)
	var i int
	switch {
	case o.GetStart() != nil:
		i = 0
		if backwards {
			return nil
		}
	case o.GetEnd() != nil:
		i = len(recs)
		if backwards {
			i = len(recs) - 1
		}
	default:
		p := o.GetPosition()
		if err := checkPosition(p.GetCommitPosition(), p.GetPreparePosition()); err != nil {
			return err
		}
		s.m.mu.Lock()
		if backwards {
			i = s.m.lastBefore(p.GetCommitPosition(), p.GetPreparePosition())
		} else {
			i = s.m.firstAtOrAfter(p.GetCommitPosition(), p.GetPreparePosition())
		}
		s.m.mu.Unlock()
	}
	sent := uint64(0)
	for ; i >= 0 && i < len(recs) && sent < count; i = step(i, backwards) {
		if !f.allows(recs[i]) {
			continue
		}
		if err := srv.Send(enc.event(recs[i], true)); err != nil {
			return err
		}
		sent++
	}
	return nil
}

func step(i int, backwards bool) int {
	if backwards {
		return i - 1
	}
	return i + 1
}

// Append serves one append: the options, then the proposed events, then
// one answer.
func (s *streamsService) Append(srv api.Streams_AppendServer) error {
	first, err := srv.Recv()
	if err != nil {
		return err
	}
	o := first.GetOptions()
	if o == nil {
		return status.Error(codes.InvalidArgument, "an append starts with its options")
	}
	name := string(o.GetStreamIdentifier().GetStreamName())
	if name == "" {
		return status.Error(codes.InvalidArgument, "an append needs a stream name")
	}
	var exp expectation
	switch o.GetExpectedStreamRevision().(type) {
	case *api.AppendReq_Options_Any:
		exp = expectation{kind: expectAny}
	case *api.AppendReq_Options_NoStream:
		exp = expectation{kind: expectNoStream}
	case *api.AppendReq_Options_StreamExists:
		exp = expectation{kind: expectExists}
	case *api.AppendReq_Options_Revision:
		exp = expectation{kind: expectRevision, revision: o.GetRevision()}
	default:
		return status.Error(codes.InvalidArgument, "an append needs an expected revision")
	}
	var events []proposed
	for {
		req, err := srv.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		pm := req.GetProposedMessage()
		if pm == nil {
			return status.Error(codes.InvalidArgument, "an append's options come once, first")
		}
		id, ok := decodeUUID(pm.GetId())
		if !ok {
			return status.Error(codes.InvalidArgument, "a proposed event needs an id")
		}
		typ, ct := pm.GetMetadata()["type"], pm.GetMetadata()["content-type"]
		if typ == "" || ct == "" {
			return status.Error(codes.InvalidArgument, "a proposed event needs the type and content-type metadata")
		}
		events = append(events, proposed{id: id, typ: typ, contentType: ct, data: pm.GetData(), meta: pm.GetCustomMetadata()})
	}
	current, pos, err := s.m.appendEvents(name, exp, events)
	var wrong *wrongVersion
	if errors.As(err, &wrong) {
		return srv.SendAndClose(&api.AppendResp{Result: &api.AppendResp_WrongExpectedVersion_{
			WrongExpectedVersion: wrongVersionResp(wrong),
		}})
	}
	if err != nil {
		return s.fail(srv, err)
	}
	success := &api.AppendResp_Success{
		PositionOption: &api.AppendResp_Success_Position{Position: &api.AppendResp_Position{CommitPosition: pos, PreparePosition: pos}},
	}
	if current < 0 {
		success.CurrentRevisionOption = &api.AppendResp_Success_NoStream{NoStream: &shared.Empty{}}
	} else {
		success.CurrentRevisionOption = &api.AppendResp_Success_CurrentRevision{CurrentRevision: uint64(current)}
	}
	return srv.SendAndClose(&api.AppendResp{Result: &api.AppendResp_Success_{Success: success}})
}

// wrongVersionResp fills both the 20.6 and the current fields of the
// refusal, as the server does for clients of either age.
func wrongVersionResp(w *wrongVersion) *api.AppendResp_WrongExpectedVersion {
	r := &api.AppendResp_WrongExpectedVersion{}
	if w.current < 0 {
		r.CurrentRevisionOption_20_6_0 = &api.AppendResp_WrongExpectedVersion_NoStream_20_6_0{NoStream_20_6_0: &shared.Empty{}}
		r.CurrentRevisionOption = &api.AppendResp_WrongExpectedVersion_CurrentNoStream{CurrentNoStream: &shared.Empty{}}
	} else {
		r.CurrentRevisionOption_20_6_0 = &api.AppendResp_WrongExpectedVersion_CurrentRevision_20_6_0{CurrentRevision_20_6_0: uint64(w.current)}
		r.CurrentRevisionOption = &api.AppendResp_WrongExpectedVersion_CurrentRevision{CurrentRevision: uint64(w.current)}
	}
	switch w.expected.kind {
	case expectAny:
		r.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedAny{ExpectedAny: &shared.Empty{}}
	case expectNoStream:
		r.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedNoStream{ExpectedNoStream: &shared.Empty{}}
	case expectExists:
		r.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedStreamExists{ExpectedStreamExists: &shared.Empty{}}
	case expectRevision:
		r.ExpectedRevisionOption = &api.AppendResp_WrongExpectedVersion_ExpectedRevision{ExpectedRevision: w.expected.revision}
	}
	return r
}

// Tombstone deletes a stream for ever.
func (s *streamsService) Tombstone(ctx context.Context, req *api.TombstoneReq) (*api.TombstoneResp, error) {
	o := req.GetOptions()
	name := string(o.GetStreamIdentifier().GetStreamName())
	var exp expectation
	switch o.GetExpectedStreamRevision().(type) {
	case *api.TombstoneReq_Options_NoStream:
		exp = expectation{kind: expectNoStream}
	case *api.TombstoneReq_Options_StreamExists:
		exp = expectation{kind: expectExists}
	case *api.TombstoneReq_Options_Revision:
		exp = expectation{kind: expectRevision, revision: o.GetRevision()}
	}
	pos, err := s.m.tombstone(name, exp)
	var wrong *wrongVersion
	switch {
	case errors.As(err, &wrong):
		_ = grpc.SetTrailer(ctx, metadata.Pairs("exception", "wrong-expected-version"))
		return nil, status.Error(codes.FailedPrecondition, err.Error())
	case err != nil:
		return nil, s.trailerError(func(md metadata.MD) { _ = grpc.SetTrailer(ctx, md) }, err)
	}
	return &api.TombstoneResp{PositionOption: &api.TombstoneResp_Position_{
		Position: &api.TombstoneResp_Position{CommitPosition: pos, PreparePosition: pos},
	}}, nil
}

// fail turns a model error into the status, and the trailers the client
// reads ("exception", "stream-name"), that the server answers with.
func (s *streamsService) fail(srv grpc.ServerStream, err error) error {
	return s.trailerError(srv.SetTrailer, err)
}

func (s *streamsService) trailerError(setTrailer func(metadata.MD), err error) error {
	var deleted *errDeleted
	var tooLarge *errTooLarge
	switch {
	case errors.As(err, &deleted):
		setTrailer(metadata.Pairs("exception", "stream-deleted", "stream-name", deleted.stream))
		return status.Error(codes.FailedPrecondition, err.Error())
	case errors.As(err, &tooLarge):
		setTrailer(metadata.Pairs("exception", "maximum-append-size-exceeded", "maximum-append-size", strconv.Itoa(tooLarge.max)))
		return status.Error(codes.InvalidArgument, err.Error())
	}
	return status.Error(codes.Internal, err.Error())
}

// encoder writes records as the server sends them.
type encoder struct {
	stringIDs bool // the reader asked for UUIDs as strings
}

// event is a record as a read response. $all reads carry the commit
// position of the record; stream reads carry none.
func (e encoder) event(r *record, withPosition bool) *api.ReadResp {
	ev := &api.ReadResp_ReadEvent{Event: &api.ReadResp_ReadEvent_RecordedEvent{
		Id:               e.uuid(r.id),
		StreamIdentifier: &shared.StreamIdentifier{StreamName: []byte(r.stream)},
		StreamRevision:   r.revision,
		PreparePosition:  r.pos,
		CommitPosition:   r.pos,
		Metadata: map[string]string{
			"type":         r.typ,
			"content-type": r.contentType,
			// .NET ticks (100 ns) since the Unix epoch.
			"created": strconv.FormatInt(r.created.UnixNano()/100, 10),
		},
		CustomMetadata: r.meta,
		Data:           r.data,
	}}
	if withPosition {
		ev.Position = &api.ReadResp_ReadEvent_CommitPosition{CommitPosition: r.pos}
	} else {
		ev.Position = &api.ReadResp_ReadEvent_NoPosition{NoPosition: &shared.Empty{}}
	}
	return &api.ReadResp{Content: &api.ReadResp_Event{Event: ev}}
}

func (e encoder) uuid(id uuid.UUID) *shared.UUID {
	if e.stringIDs {
		return &shared.UUID{Value: &shared.UUID_String_{String_: id.String()}}
	}
	return &shared.UUID{Value: &shared.UUID_Structured_{Structured: &shared.UUID_Structured{
		MostSignificantBits:  int64(binary.BigEndian.Uint64(id[:8])),
		LeastSignificantBits: int64(binary.BigEndian.Uint64(id[8:])),
	}}}
}

func decodeUUID(u *shared.UUID) (uuid.UUID, bool) {
	if st := u.GetStructured(); st != nil {
		var id uuid.UUID
		binary.BigEndian.PutUint64(id[:8], uint64(st.GetMostSignificantBits()))
		binary.BigEndian.PutUint64(id[8:], uint64(st.GetLeastSignificantBits()))
		return id, true
	}
	id, err := uuid.Parse(u.GetString_())
	return id, err == nil
}

// checkPosition refuses what the server's Position type refuses: a
// prepare position after the commit position, or positions beyond the
// signed 64-bit range other than End's.
func checkPosition(commit, prepare uint64) error {
	const end = math.MaxUint64
	switch {
	case commit < prepare:
		return status.Error(codes.InvalidArgument, "The commit position cannot be less than the prepare position")
	case commit > math.MaxInt64 && commit != end, prepare > math.MaxInt64 && prepare != end:
		return status.Error(codes.InvalidArgument, "Specified argument was out of the range of valid values. (Parameter 'commitPosition')")
	}
	return nil
}
