package server

import (
	"runtime"

	"google.golang.org/grpc"
)

// TransportOptions are the gRPC server options that change only how much
// CPU the server spends per call, never what it accepts or answers; the
// limits live in ServerOptions. Pass both to grpc.NewServer.
//
// A fixed pool of stream workers, one per core, serves calls on goroutines
// whose stacks have already grown, instead of starting a goroutine per call
// whose stack grows again each time (grpc-go falls back to a fresh goroutine
// when every worker is busy).
func TransportOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.NumStreamWorkers(uint32(runtime.GOMAXPROCS(0))),
	}
}
