package core

import "context"

// WithChunkHook returns ctx carrying f, run before each chunk of a split
// change with the chunk's number; its error stops the change there, as a
// crash would.
func WithChunkHook(ctx context.Context, f func(chunk int) error) context.Context {
	return context.WithValue(ctx, chunkHookKey{}, f)
}

// PutThen runs a write that puts key and then fails with err (nil: none),
// marked as a rejection, which is a decision only before any write.
func PutThen(ctx context.Context, s *Store, key []byte, err error) error {
	return s.update(ctx, func(w writer) error {
		if perr := w.put(key, []byte("v")); perr != nil || err == nil {
			return perr
		}
		return reject(err)
	})
}
