// Package teststack runs the service in a test and holds what tests of
// it share:
//
//   - Start: the services in-process on a real bbolt file in a temporary
//     directory, the gRPC services (with Envoy's Authorization and
//     reflection) on a loopback port and the REST facade with forward auth
//     on another, with a fixture (MakeFixture) that covers every cell of
//     the access table and every invalid-token reason;
//   - StartDaemon / RunDaemon: the daemon as the binary runs it, with its
//     addresses, its bootstrap admin credential, a gRPC connection and a
//     REST client that sends the credential;
//   - Clock, a settable time source; Eventually, for waiting on a
//     condition instead of sleeping; KillChild, the re-executed test
//     binary killed with SIGKILL for crash tests.
//
// How it can hurt you: the stack's clock only moves when a test advances
// it; the fixture's member-removed token turns into a revoked one an hour
// after the fixture was made, so a test must not advance the clock that
// far. A daemon's cleanup shuts it down and fails the test on a shutdown
// error, so a test that restarts on the same data directory must shut the
// first daemon down itself (and check the error) before the second starts.
package teststack
