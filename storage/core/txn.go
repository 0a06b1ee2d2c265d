package core

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	"tokenauthority/storage"
)

// reader is the read side of a transaction, with the lookups every
// operation needs. Values it returns are copies or decoded messages, safe
// to keep after the transaction.
type reader struct{ tx storage.ReadTx }

// engineError marks an error of the engine itself (a lost race, an
// unreachable store) as it passes through domain code, so that a closure
// that rejects with it still fails its attempt and the engine can rerun
// it (commit.go). It unwraps to the engine's error.
type engineError struct{ err error }

func (e engineError) Error() string { return e.err.Error() }
func (e engineError) Unwrap() error { return e.err }

// get returns key's value, nil when absent. The value is valid only in
// the transaction.
func (r reader) get(key []byte) ([]byte, error) {
	v, err := r.tx.Get(key)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, engineError{err}
	}
	return v, nil
}

// walk runs one of the engine's range reads, marking its errors but not
// fn's.
func walk(rangeFn func(start, end []byte, limit int, fn func(k, v []byte) error) error, start, end []byte, limit int, fn func(k, v []byte) error) error {
	var fnErr error
	err := rangeFn(start, end, limit, func(k, v []byte) error {
		fnErr = fn(k, v)
		return fnErr
	})
	if err != nil && err != fnErr {
		return engineError{err}
	}
	return err
}

// has reports whether key exists.
func (r reader) has(key []byte) (bool, error) {
	v, err := r.get(key)
	return v != nil, err
}

// each calls fn for the keys that start with prefix and sort after
// prefix+after (all when after is ""), ascending, at most limit (0: all);
// fn gets the key without prefix.
func (r reader) each(prefix []byte, after string, limit int, fn func(k, v []byte) error) error {
	start := append(append([]byte(nil), prefix...), after...)
	if after != "" {
		start = append(start, 0) // the first key past prefix+after
	}
	return walk(r.tx.Range, start, storage.PrefixEnd(prefix), limit, func(k, v []byte) error {
		return fn(k[len(prefix):], v)
	})
}

// eachReverse is each descending: the keys under prefix that sort before
// prefix+before (all when before is "").
func (r reader) eachReverse(prefix []byte, before string, limit int, fn func(k, v []byte) error) error {
	end := storage.PrefixEnd(prefix)
	if before != "" {
		end = append(append([]byte(nil), prefix...), before...)
	}
	return walk(r.tx.RangeReverse, prefix, end, limit, func(k, v []byte) error {
		return fn(k[len(prefix):], v)
	})
}

// keys copies out up to limit (0: all) keys under prefix, without it.
func (r reader) keys(prefix []byte, limit int) ([]string, error) {
	var out []string
	err := r.each(prefix, "", limit, func(k, _ []byte) error {
		out = append(out, string(k))
		return nil
	})
	return out, err
}

// writer is a read-write transaction.
type writer struct {
	reader
	w storage.Tx
}

func (w writer) put(key, value []byte) error { return w.w.Put(key, value) }
func (w writer) del(key []byte) error        { return w.w.Delete(key) }

// putMsg stores m under key.
func (w writer) putMsg(key []byte, m proto.Message) error {
	v, err := encode(m)
	if err != nil {
		return err
	}
	return w.w.Put(key, v)
}

// delAll deletes every key under prefix.
func (w writer) delAll(prefix []byte) error {
	ks, err := w.keys(prefix, 0)
	if err != nil {
		return err
	}
	for _, k := range ks {
		if err := w.del(append(append([]byte(nil), prefix...), k...)); err != nil {
			return err
		}
	}
	return nil
}

// encode marshals a value for storage, deterministically so that equal
// records are equal bytes.
func encode(m proto.Message) ([]byte, error) {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", m, err)
	}
	return b, nil
}

// decode unmarshals a stored value; the result shares nothing with b.
func decode[T any, P interface {
	*T
	proto.Message
}](b []byte) (P, error) {
	m := P(new(T))
	if err := proto.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("decode %T: %w", m, err)
	}
	return m, nil
}

// getMsg reads and decodes key; nil when absent.
func getMsg[T any, P interface {
	*T
	proto.Message
}](r reader, key []byte) (P, error) {
	v, err := r.get(key)
	if err != nil || v == nil {
		return nil, err
	}
	return decode[T, P](v)
}

// decodeToken decodes a stored record; a record without its token is
// corrupt, and reporting it beats a nil dereference later.
func decodeToken(v []byte) (*storagepb.TokenRecord, error) {
	rec, err := decode[storagepb.TokenRecord](v)
	if err != nil {
		return nil, err
	}
	if rec.Token == nil {
		return nil, fmt.Errorf("stored token record has no token")
	}
	return rec, nil
}

// listAfter decodes the values under prefix whose keys sort after after,
// ascending, at most limit (0: all).
func listAfter[T any, P interface {
	*T
	proto.Message
}](r reader, prefix []byte, after string, limit int) ([]P, error) {
	var out []P
	err := r.each(prefix, after, limit, func(_, v []byte) error {
		m, err := decode[T, P](v)
		if err == nil {
			out = append(out, m)
		}
		return err
	})
	return out, err
}
