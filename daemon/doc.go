// Package daemon wires a configuration into a running tokenauthority: it
// opens the store, loads the master key and the service credentials, and
// serves gRPC and REST on their listeners until it is shut down.
//
// It is what cmd/tokenauthority runs and what end-to-end tests start
// in-process. One daemon owns its data directory: bbolt locks the store file,
// so a second daemon on the same directory fails to start.
package daemon
