package server

import (
	"runtime"

	"google.golang.org/grpc"
)

// streamWorkersPerCore sizes the stream worker pool. grpc-go hands a new
// call to a worker only if one is idle at that moment and starts a fresh
// goroutine otherwise, so the pool must cover the calls in flight, not
// the cores (docs/benchmarks.md, "server").
const streamWorkersPerCore = 32

// TransportOptions are the gRPC server options that change only how much
// CPU the server spends per call, never what it accepts or answers; the
// limits live in ServerOptions. Pass both to grpc.NewServer.
//
// A pool of stream workers serves calls on goroutines whose stacks have
// already grown, instead of starting a goroutine per call whose stack
// grows again each time. An idle worker is a parked goroutine holding its
// stack (tens of KiB), so the pool costs a few MiB at most.
func TransportOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.NumStreamWorkers(uint32(streamWorkersPerCore * runtime.GOMAXPROCS(0))),
	}
}
