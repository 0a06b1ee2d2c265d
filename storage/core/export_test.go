package core

import "context"

// WithChunkHook returns ctx carrying f, run before each chunk of a split
// change with the chunk's number; its error stops the change there, as a
// crash would.
func WithChunkHook(ctx context.Context, f func(chunk int) error) context.Context {
	return context.WithValue(ctx, chunkHookKey{}, f)
}
