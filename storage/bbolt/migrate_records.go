package bbolt

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage/core"
)

// record is one key and value of the engine layout; the value may point
// into the old file's pages.
type record struct{ key, value []byte }

// putSorted puts records into kv in ascending key order: bbolt keeps a
// bucket written in one transaction as one node, so putting keys in front
// of others would take time quadratic in their number.
func putSorted(kv *bolt.Bucket, records []record) error {
	slices.SortFunc(records, func(a, b record) int { return bytes.Compare(a.key, b.key) })
	for i, r := range records {
		if i > 0 && bytes.Equal(r.key, records[i-1].key) {
			return fmt.Errorf("key %q: two old records map to it", r.key)
		}
		// The value points into pages the transaction frees before commit.
		if err := kv.Put(r.key, bytes.Clone(r.value)); err != nil {
			return err
		}
	}
	return nil
}

// oldRecords maps every record of the old store (see migrate.go); a
// missing bucket (an early schema 1 file) holds nothing.
func oldRecords(tx *bolt.Tx, meta *bolt.Bucket) ([]record, error) {
	out, err := migratedMeta(meta)
	if err != nil {
		return nil, err
	}
	// Sized once: growing it step by step would allocate five times as much.
	n := 0
	for _, name := range oldData {
		if b := tx.Bucket(name); b != nil {
			n += b.Stats().KeyN
		}
	}
	out = slices.Grow(out, n)
	if out, err = migratedAudit(out, tx.Bucket(oldAudit)); err != nil {
		return nil, err
	}
	for _, name := range oldCopied {
		prefix := append(bytes.Clone(name), '/')
		err := each(tx.Bucket(name), name, func(k, v []byte) error {
			out = append(out, record{append(bytes.Clone(prefix), k...), v})
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// each calls fn for every key of bucket b, if any, and fails at a nested
// bucket, which the old store never wrote.
func each(b *bolt.Bucket, name []byte, fn func(k, v []byte) error) error {
	if b == nil {
		return nil
	}
	return b.ForEach(func(k, v []byte) error {
		if v == nil {
			return fmt.Errorf("bucket %s holds a nested bucket %q; nothing was changed", name, k)
		}
		return fn(k, v)
	})
}

// migratedMeta maps each key of the old store's meta bucket.
func migratedMeta(meta *bolt.Bucket) ([]record, error) {
	var out []record
	err := each(meta, oldMeta, func(k, v []byte) error {
		switch {
		case bytes.Equal(k, oldSchemaVersion):
			out = append(out, record{kvSchemaVersion, strconv.AppendInt(nil, engineSchemaVersion, 10)})
		case bytes.Equal(k, oldTokenCount), bytes.Equal(k, oldWorkspaceCount):
			// The validation index counts the records as it loads them.
		case bytes.Equal(k, oldKeyCheck), bytes.HasPrefix(k, oldKeyCheckPrefix):
			out = append(out, record{append([]byte("meta/"), k...), v})
		case bytes.Equal(k, oldAuditHead), bytes.Equal(k, oldAuditCheckpoint):
			out = append(out, record{append(append(bytes.Clone(k), '/'), core.LegacyChain...), v})
		default:
			return fmt.Errorf("meta key %q is unknown to this build; nothing was changed", k)
		}
		return nil
	})
	return out, err
}

// migratedAudit appends the audit log keyed in the legacy chain
// (core.MigratedAuditTime keeps sequence order). An event that cannot be
// decoded is kept as it is, right after the one before it, for the chain
// check to report.
func migratedAudit(out []record, b *bolt.Bucket) ([]record, error) {
	var prev uint64
	first := true
	err := each(b, oldAudit, func(k, v []byte) error {
		if len(k) != 8 {
			return fmt.Errorf("audit key %x has %d bytes, want 8; nothing was changed", k, len(k))
		}
		seq := binary.BigEndian.Uint64(k)
		ev := &pb.AuditEvent{}
		if proto.Unmarshal(v, ev) != nil {
			ev = nil
		}
		t, err := core.MigratedAuditTime(core.EventNanos(ev), prev, first)
		if err != nil {
			return fmt.Errorf("audit event %d: %w", seq, err)
		}
		prev, first = t, false
		out = append(out, record{core.AuditKey(t, core.LegacyChain, seq), v})
		return nil
	})
	return out, err
}
