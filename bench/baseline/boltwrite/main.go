// Command boltwrite is the write baseline of the load harness: fsynced bbolt
// commits of ~200-byte values into a fresh file, the disk's own rate for the
// token authority's creates to be compared with.
//
//	boltwrite -mode update -dir D -duration 5s   one writer, one db.Update per value
//	boltwrite -mode batch -writers 64 ...         64 writers sharing commits through db.Batch
//
// With -prefill N the file first gets N values (once; later runs on the
// same -dir find them), so that commits touch a tree as deep as that of a
// store holding N tokens: a commit into a large file writes more pages than
// one into an empty file.
//
// It prints {"writes": N, "seconds": S} on stdout.
//
// # How it can hurt you
//
// It writes and fsyncs as fast as the disk allows for the whole duration,
// slowing every other writer on the machine; the file is left in -dir for
// the caller to remove.
package main

import (
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"tokenauthority/bench/baseline/writeloop"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "boltwrite:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("boltwrite", flag.ContinueOnError)
	mode := fs.String("mode", "update", "update (one fsynced db.Update per value) or batch (db.Batch)")
	writers := fs.Int("writers", 1, "concurrent writers")
	dir := fs.String("dir", "", "directory of the bbolt file (required)")
	duration := fs.Duration("duration", 5*time.Second, "how long to write")
	prefill := fs.Int("prefill", 0, "first fill the file, unsynced and untimed, to this many values (the store being compared holds that many tokens)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dir == "" || *writers < 1 {
		return errors.New("-dir is required and -writers must be at least 1")
	}
	if *mode != "update" && *mode != "batch" {
		return fmt.Errorf("-mode %q: want update or batch", *mode)
	}
	db, err := bolt.Open(filepath.Join(*dir, "boltwrite.db"), 0o600, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	bucket := []byte("tokens")
	if err := db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucket)
		return err
	}); err != nil {
		return err
	}

	if err := fill(db, bucket, *prefill); err != nil {
		return err
	}

	return writeloop.Run(os.Stdout, *writers, *duration, func(int) error {
		var key [32]byte
		val := make([]byte, 200)
		if _, err := rand.Read(key[:]); err != nil {
			return err
		}
		copy(val, key[:])
		put := func(tx *bolt.Tx) error { return tx.Bucket(bucket).Put(key[:], val) }
		if *mode == "batch" {
			return db.Batch(put)
		}
		return db.Update(put)
	})
}

// fill adds random values to bucket until it holds n, in large unsynced
// transactions.
func fill(db *bolt.DB, bucket []byte, n int) error {
	have := 0
	if err := db.View(func(tx *bolt.Tx) error {
		have = tx.Bucket(bucket).Stats().KeyN
		return nil
	}); err != nil {
		return err
	}
	db.NoSync = true
	defer func() { db.NoSync = false }()
	for have < n {
		err := db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket(bucket)
			for i := 0; i < 50_000 && have+i < n; i++ {
				key := make([]byte, 32)
				if _, err := rand.Read(key); err != nil {
					return err
				}
				if err := b.Put(key, make([]byte, 200)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		have += 50_000
	}
	return db.Sync()
}
