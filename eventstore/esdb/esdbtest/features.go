package esdbtest

import (
	"context"
	"net"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/EventStore/EventStore-Client-Go/v4/protos/gossip"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/serverfeatures"
	"github.com/EventStore/EventStore-Client-Go/v4/protos/shared"
)

// featuresService answers the client's first call on every connection:
// which server version it talks to and which methods it offers.
type featuresService struct {
	serverfeatures.UnimplementedServerFeaturesServer
	version string
}

func (f *featuresService) GetSupportedMethods(context.Context, *shared.Empty) (*serverfeatures.SupportedMethods, error) {
	const streams = "event_store.client.streams.streams"
	methods := []*serverfeatures.SupportedMethod{
		{ServiceName: streams, MethodName: "read"},
		{ServiceName: streams, MethodName: "append"},
		{ServiceName: streams, MethodName: "tombstone"},
		{ServiceName: "event_store.client.gossip.gossip", MethodName: "read"},
		{ServiceName: "event_store.client.server_features.serverfeatures", MethodName: "getsupportedmethods"},
	}
	return &serverfeatures.SupportedMethods{Methods: methods, EventStoreServerVersion: f.version}, nil
}

// gossipService describes a one-node cluster whose only member, this
// server, is the leader, so that discovery connection strings
// (esdb+discover://) work against it.
type gossipService struct {
	gossip.UnimplementedGossipServer
	instance uuid.UUID
	addr     func() string
}

func (g *gossipService) Read(context.Context, *shared.Empty) (*gossip.ClusterInfo, error) {
	host, port, err := net.SplitHostPort(g.addr())
	if err != nil {
		return nil, err
	}
	p, err := strconv.ParseUint(port, 10, 32)
	if err != nil {
		return nil, err
	}
	return &gossip.ClusterInfo{Members: []*gossip.MemberInfo{{
		InstanceId:   encoder{}.uuid(g.instance),
		TimeStamp:    time.Now().UnixNano() / 100,
		State:        gossip.MemberInfo_Leader,
		IsAlive:      true,
		HttpEndPoint: &gossip.EndPoint{Address: host, Port: uint32(p)},
	}}}, nil
}
