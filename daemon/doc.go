// Package daemon wires a configuration into a running tokenauthority: it
// opens the store, loads the master key and the service credentials, and
// serves gRPC and REST on their listeners until it is shut down.
//
// It is what cmd/tokenauthority runs and what end-to-end tests start
// in-process. One daemon owns its data directory: bbolt locks the store file,
// so a second daemon on the same directory fails to start.
//
// How it can hurt you: the master key is checked against the store at every
// start (masterkey.go, the one place keys are loaded), and a store holding
// sealed secrets never gets a new key: losing the key file means restoring
// it, not starting over. The same goes for every key of the ring file once
// it has sealed something; "keys retire" (keys.go) is the only safe way to
// drop one, and "keys reseal" and "keys retire" need the store to
// themselves. The rate
// limits key on the connection's address, so behind a proxy every client
// shares one budget. The audit chain is verified at start and every
// --audit-verify-interval, reading the whole audit log; on bbolt a write
// that must grow the file waits for that read. Tracing (package tracing)
// starts only when the OTEL_* environment names a collector; its spans are
// flushed at Shutdown after the listeners stop.
package daemon
