// Package e2e holds end-to-end tests: they build cmd/tokenauthority,
// cmd/tokenctl and grpcurl, start the real server binary on loopback ports
// with a fresh data directory, and drive it the way operators and other
// programs do (grpcurl, curl, tokenctl, plain HTTP, nginx and Caddy in
// front of a naive model server), including kill -9,
// SIGTERM under load, mutual TLS, and backup and restore. The README's
// walkthroughs are extracted from README.md and run as written, in order,
// on one server. Every REST exchange of the REST client and of the curl
// walkthroughs is validated against the server's own /openapi.json
// (openapi_test.go), so the document cannot drift from the server.
//
// The tests need the go command (to build the binaries), bash, curl,
// python3 (the SDK's own date parsing), nginx and caddy; a missing one
// fails the test with the reason, and the README's test command installs
// them when they are missing.
package e2e
