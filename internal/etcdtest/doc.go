// Package etcdtest runs a real etcd cluster inside a test process: three
// members (or any odd number) on free loopback ports, data in t.TempDir(),
// short heartbeat and election timeouts so a start or a leader election takes
// well under a second. Members can be stopped and restarted on the same ports
// and data, to take a quorum away and give it back.
//
// Options.MutualTLS makes members serve clients over https and demand a
// client certificate (certificates from tlsconfig/certtest, in a
// t.TempDir()); Options.Auth turns etcd authentication on once the members
// run, with a root user and users whose roles grant readwrite on one key
// prefix each. The cluster's own clients (Client, the health checks) use
// its client certificate and log in as root.
//
// # How it can hurt you
//
//   - Ports are chosen by binding port 0 and closing the listener before etcd
//     binds it again; another process can take a port in between. Start
//     retries with fresh ports a few times, then fails the test.
//   - Every member runs in the test's process: a cluster costs tens of MB and
//     a few goroutines per member. Start one per test package that needs it,
//     not one per test, when the tests do not stop members.
//   - fsync is off (UnsafeNoFsync): the data survives a member stop, not a
//     machine crash. Fine for tests, never for anything else.
//   - Stop of a quorum makes every client call block until its context ends;
//     pass short deadlines in tests that stop members.
//   - Authentication uses bcrypt's lowest cost so logins are cheap; the
//     passwords are test passwords and nothing else.
package etcdtest
