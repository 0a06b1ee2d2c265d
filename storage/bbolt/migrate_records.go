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

// source yields records of the engine layout in ascending key order; ok
// is false once it has no more.
type source func() (r record, ok bool, err error)

// putMerged puts the records of every source into kv in ascending key
// order: bbolt keeps a bucket written in one transaction as one node, so
// putting keys in front of others takes time quadratic in their number.
func putMerged(kv *bolt.Bucket, sources []source) error {
	heads := make([]record, len(sources))
	live := make([]bool, len(sources))
	for i, next := range sources {
		var err error
		if heads[i], live[i], err = next(); err != nil {
			return err
		}
	}
	var last []byte
	for {
		low := -1
		for i := range heads {
			if live[i] && (low < 0 || bytes.Compare(heads[i].key, heads[low].key) < 0) {
				low = i
			}
		}
		if low < 0 {
			return nil
		}
		r := heads[low]
		if last != nil && bytes.Compare(r.key, last) <= 0 {
			return fmt.Errorf("key %q comes after %q: two old records map to one key, or a source is out of order", r.key, last)
		}
		// The value points into pages the transaction frees before commit.
		if err := kv.Put(r.key, bytes.Clone(r.value)); err != nil {
			return err
		}
		last = r.key
		var err error
		if heads[low], live[low], err = sources[low](); err != nil {
			return err
		}
	}
}

// sliceSource yields records, sorted first.
func sliceSource(records []record) source {
	slices.SortFunc(records, func(a, b record) int { return bytes.Compare(a.key, b.key) })
	return func() (record, bool, error) {
		if len(records) == 0 {
			return record{}, false, nil
		}
		r := records[0]
		records = records[1:]
		return r, true, nil
	}
}

// copiedSource yields every record of bucket b under "<name>/".
func copiedSource(b *bolt.Bucket, name []byte) source {
	if b == nil {
		return sliceSource(nil)
	}
	prefix := append(bytes.Clone(name), '/')
	next := walk(b, name)
	return func() (record, bool, error) {
		k, v, err := next()
		if k == nil || err != nil {
			return record{}, false, err
		}
		return record{key: append(bytes.Clone(prefix), k...), value: v}, true, nil
	}
}

// walk steps through bucket b (named name) from its first key: nil at the
// end, an error at a nested bucket, which the old store never wrote.
func walk(b *bolt.Bucket, name []byte) func() (k, v []byte, err error) {
	c := b.Cursor()
	step := c.First
	return func() ([]byte, []byte, error) {
		k, v := step()
		step = c.Next
		if k != nil && v == nil {
			return nil, nil, fmt.Errorf("bucket %s holds a nested bucket %q; nothing was changed", name, k)
		}
		return k, v, nil
	}
}

// migratedMeta maps each key of the old store's meta bucket.
func migratedMeta(meta *bolt.Bucket) ([]record, error) {
	var out []record
	next := walk(meta, oldMeta)
	for {
		k, v, err := next()
		if k == nil || err != nil {
			return out, err
		}
		switch {
		case bytes.Equal(k, oldSchemaVersion):
			out = append(out, record{[]byte("meta/schema_version"), strconv.AppendInt(nil, engineSchemaVersion, 10)})
		case bytes.Equal(k, oldTokenCount), bytes.Equal(k, oldWorkspaceCount):
			// The validation index counts the records as it loads them.
		case bytes.Equal(k, oldKeyCheck), bytes.HasPrefix(k, oldKeyCheckPrefix):
			out = append(out, record{append([]byte("meta/"), k...), v})
		case bytes.Equal(k, oldAuditHead), bytes.Equal(k, oldAuditCheckpoint):
			out = append(out, record{append(append(bytes.Clone(k), '/'), core.LegacyChain...), v})
		default:
			return nil, fmt.Errorf("meta key %q is unknown to this build; nothing was changed", k)
		}
	}
}

// auditSource yields the audit log keyed in the legacy chain (auditTime
// keeps sequence order). An event that cannot be decoded is kept as it is,
// right after the one before it, for the chain check to report.
func auditSource(b *bolt.Bucket) source {
	if b == nil {
		return sliceSource(nil)
	}
	next := walk(b, oldAudit)
	var prev uint64
	first := true
	return func() (record, bool, error) {
		k, v, err := next()
		if k == nil || err != nil {
			return record{}, false, err
		}
		if len(k) != 8 {
			return record{}, false, fmt.Errorf("audit key %x has %d bytes, want 8; nothing was changed", k, len(k))
		}
		seq := binary.BigEndian.Uint64(k)
		ev := &pb.AuditEvent{}
		if proto.Unmarshal(v, ev) != nil {
			ev = nil
		}
		t, err := auditTime(ev, prev, first)
		if err != nil {
			return record{}, false, fmt.Errorf("audit event %d: %w", seq, err)
		}
		prev, first = t, false
		return record{key: core.AuditKey(t, core.LegacyChain, seq), value: v}, true, nil
	}
}
