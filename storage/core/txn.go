package core

import (
	"bytes"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	storagepb "tokenauthority/gen/tokenauthority/storage/v1"
	"tokenauthority/storage"
)

// reader is the read side of a transaction. What it returns outlives the
// transaction, except get's value.
type reader struct{ tx storage.ReadTx }

// engineError marks the engine's own error (a lost race, no quorum) so that
// a closure rejecting with it still fails its attempt and can be rerun.
type engineError struct{ err error }

func (e engineError) Error() string { return e.err.Error() }
func (e engineError) Unwrap() error { return e.err }

// get returns key's value, nil when absent, valid only in the transaction.
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

func (r reader) has(key []byte) (bool, error) {
	v, err := r.get(key)
	return v != nil, err
}

// expect returns err when key's presence is not want, or the engine's error.
func (r reader) expect(key []byte, want bool, err error) error {
	ok, rerr := r.has(key)
	if rerr == nil && ok != want {
		return err
	}
	return rerr
}

// rangeFunc is one of the engine's range reads.
type rangeFunc func(start, end []byte, limit int, fn func(k, v []byte) error) error

// walk runs a range read under prefix, giving fn keys without it, and
// marks the engine's errors but not fn's.
func walk(read rangeFunc, prefix, start, end []byte, limit int, fn func(k, v []byte) error) error {
	var fnErr error
	err := read(start, end, limit, func(k, v []byte) error {
		fnErr = fn(k[len(prefix):], v)
		return fnErr
	})
	if err != nil && err != fnErr {
		return engineError{err}
	}
	return err
}

// each calls fn, ascending, for at most limit (0: all) keys under prefix
// that sort after prefix+after ("": all); fn gets the key without prefix.
func (r reader) each(prefix []byte, after string, limit int, fn func(k, v []byte) error) error {
	start := append(bytes.Clone(prefix), after...)
	if after != "" {
		start = append(start, 0) // the first key past prefix+after
	}
	return walk(r.tx.Range, prefix, start, storage.PrefixEnd(prefix), limit, fn)
}

// eachReverse is each descending, over the keys before prefix+before.
func (r reader) eachReverse(prefix []byte, before string, limit int, fn func(k, v []byte) error) error {
	end := storage.PrefixEnd(prefix)
	if before != "" {
		end = append(bytes.Clone(prefix), before...)
	}
	return walk(r.tx.RangeReverse, prefix, prefix, end, limit, fn)
}

// scanPage bounds one read of a full scan: on etcd a response is held whole
// in memory, so a big store is read in many bounded reads.
const scanPage = 1000

// scan is each over all keys after prefix+after, in reads of scanPage.
func (r reader) scan(prefix []byte, after string, fn func(k, v []byte) error) error {
	for {
		n := 0
		err := r.each(prefix, after, scanPage, func(k, v []byte) error {
			n++
			after = string(k)
			return fn(k, v)
		})
		if err != nil || n < scanPage {
			return err
		}
	}
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

// delSome deletes up to limit (0: all) keys under prefix and reports how many.
func delSome(w writer, prefix []byte, limit int) (int, error) {
	ks, err := w.keys(prefix, limit)
	if err != nil {
		return 0, err
	}
	for _, k := range ks {
		if err := w.del(append(bytes.Clone(prefix), k...)); err != nil {
			return 0, err
		}
	}
	return len(ks), nil
}

// encode marshals deterministically, so equal records are equal bytes.
func encode(m proto.Message) ([]byte, error) {
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", m, err)
	}
	return b, nil
}

// message is a pointer to a proto message type T.
type message[T any] interface {
	*T
	proto.Message
}

// decode unmarshals a stored value; the result shares nothing with b.
func decode[T any, P message[T]](b []byte) (P, error) {
	m := P(new(T))
	if err := proto.Unmarshal(b, m); err != nil {
		return nil, fmt.Errorf("decode %T: %w", m, err)
	}
	return m, nil
}

// getMsg reads and decodes key; nil when absent.
func getMsg[T any, P message[T]](r reader, key []byte) (P, error) {
	v, err := r.get(key)
	if err != nil || v == nil {
		return nil, err
	}
	return decode[T, P](v)
}

// decodeToken decodes a token record; one without its token is corrupt,
// better reported here than dereferenced later.
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

// listAfter decodes, ascending, at most limit (0: all) values under prefix
// whose keys sort after after.
func listAfter[T any, P message[T]](r reader, prefix []byte, after string, limit int) ([]P, error) {
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
