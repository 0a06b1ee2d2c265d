// Package etcdclient connects to an etcd cluster: the client configuration
// (endpoints, TLS, credentials) with its checks, and a TLS preflight that
// reports a TLS mismatch at once, where the etcd client reports only a
// timeout. Errors name the daemon's --etcd-* flags.
//
// # How it can hurt you
//
//   - Connect first makes its own TLS connection to every https endpoint
//     and sends it an HTTP/2 preface (preflight.go): a member's log may
//     show these short connections.
//   - The password file is read once, by ClientConfig; rotate it by
//     restarting. The password never appears in an error.
//   - A member that cannot be reached is not a preflight error (a quorum
//     may be up); only TLS failures with no usable member are.
package etcdclient
