package etcd

import "context"

// WithMigrationHook runs fn before each transaction of a migration under
// ctx; fn's error stops it there, as a crash would.
func WithMigrationHook(ctx context.Context, fn func() error) context.Context {
	return context.WithValue(ctx, stepHookKey{}, fn)
}
