package etcdtest_test

import (
	"context"
	"testing"
	"time"

	"tokenauthority/internal/etcdtest"
)

// TestQuorum starts three members, writes, loses one member (still
// writable), loses a second (writes fail), and gets the quorum back.
func TestQuorum(t *testing.T) {
	c := etcdtest.Start(t, etcdtest.Options{})
	cli := c.Client(t)
	put := func(timeout time.Duration) error {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		_, err := cli.Put(ctx, "k", "v")
		return err
	}
	if err := put(5 * time.Second); err != nil {
		t.Fatalf("put on a healthy cluster: %v", err)
	}
	c.Stop(2)
	// A put sent to the stopped member fails ("raft: stopped"); the
	// client's next attempt goes to a live one.
	var err error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if err = put(time.Second); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("put with one member down: %v", err)
	}
	c.Stop(1)
	if err := put(300 * time.Millisecond); err == nil {
		t.Fatal("put without a quorum succeeded")
	}
	c.Restart(1)
	c.WaitHealthy(10 * time.Second)
	if err := put(5 * time.Second); err != nil {
		t.Fatalf("put after the quorum came back: %v", err)
	}
}
