package server

import (
	"context"
	"testing"
	"time"

	"google.golang.org/grpc/tap"
)

// BenchmarkRequestReadTimer measures what the request read timeout adds to
// every call (the tap handle's context and timer, stopped once the request
// is read), against deriving a plain cancelable context as the baseline.
func BenchmarkRequestReadTimer(b *testing.B) {
	info := &tap.Info{FullMethodName: "/x/y"}
	b.Run("timer", func(b *testing.B) {
		h := requestReadDeadline(10 * time.Second)
		for b.Loop() {
			parent, cancel := context.WithCancel(context.Background())
			ctx, err := h(parent, info)
			if err != nil {
				b.Fatal(err)
			}
			stopReadTimer(ctx)
			cancel()
		}
	})
	b.Run("baseline=context", func(b *testing.B) {
		for b.Loop() {
			parent, cancel := context.WithCancel(context.Background())
			ctx, cancel2 := context.WithCancel(parent)
			_ = ctx
			cancel2()
			cancel()
		}
	})
}
