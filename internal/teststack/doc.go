// Package teststack runs the whole service in a test: a real bbolt file in
// a temporary directory, the gRPC services (with Envoy's Authorization and
// reflection) on a loopback port, and the REST facade with forward auth on
// another, plus a fixture that covers every cell of the access table and
// every invalid-token reason.
//
// How it can hurt you: the stack's clock is shared by every test using it
// and only moves when a test advances it; the fixture's member-removed
// token turns into a revoked one an hour after the fixture was made, so a
// test must not advance the clock that far.
package teststack
