package etcd

import (
	"context"
	"time"
)

// WithMigrationHook runs fn before each transaction of a migration under
// ctx; fn's error stops it there, as a crash would.
func WithMigrationHook(ctx context.Context, fn func() error) context.Context {
	return context.WithValue(ctx, stepHookKey{}, fn)
}

// ScanLayout1 runs a migration's scan of e's prefix and reports whether it
// found the migration finished by another process.
func ScanLayout1(ctx context.Context, e *Engine) (done bool, err error) {
	p, err := scanLayout1(ctx, stepped{e: e, step: time.Minute})
	return p.done, err
}
