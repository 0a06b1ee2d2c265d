package bbolt

import (
	"bytes"

	bolt "go.etcd.io/bbolt"
	"google.golang.org/protobuf/proto"
)

// listAfter decodes the values under prefix+k for k > after, ascending, at
// most limit of them (all when limit <= 0).
func listAfter[T any, P interface {
	*T
	proto.Message
}](b *bolt.Bucket, prefix []byte, after string, limit int) ([]P, error) {
	var out []P
	start := append(append([]byte(nil), prefix...), after...)
	c := b.Cursor()
	k, v := c.Seek(start)
	if k != nil && after != "" && bytes.Equal(k, start) {
		k, v = c.Next()
	}
	for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if limit > 0 && len(out) >= limit {
			break
		}
		m, err := decode[T, P](v)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// keysWithPrefix copies out the keys that start with prefix; with firstOnly
// it stops at the first, which is enough to learn whether any exist.
func keysWithPrefix(b *bolt.Bucket, prefix []byte, firstOnly bool) [][]byte {
	var out [][]byte
	c := b.Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		out = append(out, append([]byte(nil), k...))
		if firstOnly {
			break
		}
	}
	return out
}

// deleteKeys deletes keys collected beforehand; deleting while a cursor walks
// the same bucket can skip entries.
func deleteKeys(b *bolt.Bucket, keys [][]byte) error {
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
