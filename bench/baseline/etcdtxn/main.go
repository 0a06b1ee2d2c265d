// Command etcdtxn is the etcd write baseline of the load harness: writers
// committing transactions of -puts puts each, of -bytes bytes in all (keys
// and values), as fast as the cluster takes them: etcd's own rate for the
// token authority's audited creates to be compared with.
//
//	etcdtxn -endpoints URL,URL,URL -prefix /bench-raw/ -writers 16 -puts 4 -bytes 2800 -duration 5s
//
// Each transaction puts -puts new keys under -prefix with no comparison;
// a create's transaction also compares what it read, which etcd checks in
// memory.
//
// It prints {"writes": N, "seconds": S} on stdout, N being transactions.
//
// # How it can hurt you
//
// It writes for the whole duration as fast as the members fsync, slowing
// every other writer on the machine, and leaves its keys under -prefix.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"tokenauthority/bench/baseline/writeloop"
)

func main() {
	if err := run(context.Background(), os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "etcdtxn:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("etcdtxn", flag.ContinueOnError)
	endpoints := fs.String("endpoints", "", "comma-separated client URLs of the cluster (required)")
	prefix := fs.String("prefix", "/bench-raw/", "prefix of the keys written")
	writers := fs.Int("writers", 16, "concurrent writers, each with one transaction in flight")
	puts := fs.Int("puts", 4, "puts per transaction")
	total := fs.Int("bytes", 2800, "bytes of one transaction's keys and values")
	duration := fs.Duration("duration", 5*time.Second, "how long to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *endpoints == "" || *writers < 1 || *puts < 1 || *puts > 10 {
		return errors.New("-endpoints is required; -writers must be at least 1 and -puts 1 to 10")
	}
	// Keys are the prefix, 32 random hex digits, a slash and the put's
	// digit.
	keyLen := len(*prefix) + 32 + 2
	valueLen := *total / *puts - keyLen
	if valueLen < 0 {
		return fmt.Errorf("-bytes %d: less than %d keys of %d bytes", *total, *puts, keyLen)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: strings.Split(*endpoints, ","), DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return err
	}
	defer cli.Close()

	value := strings.Repeat("v", valueLen)
	ops := make([][]clientv3.Op, *writers)
	for w := range ops {
		ops[w] = make([]clientv3.Op, *puts)
	}
	return writeloop.Run(os.Stdout, *writers, *duration, func(w int) error {
		var id [16]byte
		if _, err := rand.Read(id[:]); err != nil {
			return err
		}
		base := *prefix + hex.EncodeToString(id[:])
		for i := range ops[w] {
			ops[w][i] = clientv3.OpPut(fmt.Sprintf("%s/%d", base, i), value)
		}
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		_, err := cli.Txn(wctx).Then(ops[w]...).Commit()
		return err
	})
}
