package etcd_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/internal/etcdtest"
	"tokenauthority/internal/teststack"
	"tokenauthority/storage/etcd"
)

type tlog struct{ t *testing.T }

func (w tlog) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }

// TestFeedFollowsMemberLoss stops each member in turn (like a crash: it
// stops answering without closing its streams at once) and checks the
// index stays current: Ping passes and a write is seen. The watch rotates
// over the members, so some turn opens a watch on the member that is down,
// which must not hold the index either.
func TestFeedFollowsMemberLoss(t *testing.T) {
	c := etcdtest.Start(t, etcdtest.Options{})
	cli := c.Client(t)
	ctx := context.Background()
	s, err := etcd.OpenClient(ctx, cli, etcd.Options{Prefix: "/idx/", MaxStaleness: time.Second, WriteTimeout: 2 * time.Second,
		Logger: slog.New(slog.NewTextHandler(tlog{t}, nil)),
		Watch:  &clientv3.Config{Endpoints: c.Endpoints(), DialTimeout: time.Second, Logger: zap.NewNop()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	for i := range 3 {
		c.Stop(i)
		// The watch on the stopped member goes silent and is reopened on
		// the next one; the index is current again well within 5s.
		// Pinging past 1.5s proves the index stays current, not just that
		// it was before the member's silence was noticed.
		stopped := time.Now()
		teststack.Eventually(t, 5*time.Second, func() error {
			pctx, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			if err := s.Ping(pctx); err != nil {
				return fmt.Errorf("Ping with member %d down: %w", i, err)
			}
			if time.Since(stopped) <= 1500*time.Millisecond {
				return errors.New("not yet 1.5s since the member stopped")
			}
			return nil
		})
		wctx, cancel := context.WithTimeout(ctx, 3*time.Second)
		err := s.CreateWorkspace(wctx, &pb.Workspace{WorkspaceId: "w" + string(rune('0'+i)), CreateTime: timestamppb.Now()})
		cancel()
		if err != nil {
			t.Errorf("CreateWorkspace with member %d down: %v", i, err)
		}
		c.Restart(i)
		c.WaitHealthy(10 * time.Second)
	}
}
