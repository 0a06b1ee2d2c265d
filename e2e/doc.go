// Package e2e holds end-to-end tests: they build cmd/tokenauthority and
// grpcurl, start the real binary on loopback ports with a fresh data
// directory, and drive it the way operators and other programs do (grpcurl,
// curl, plain HTTP), including kill -9 and restart.
//
// The tests need the go command (to build the binaries) and curl; the
// README's test command installs curl when it is missing.
package e2e
