// Package soak holds a bounded soak test: mixed validate, create, revoke,
// roll and refresh traffic over gRPC and REST against a real daemon (real
// store, real listeners) for a fixed time, then a check that no request
// failed and that goroutines and heap came back to their baseline.
//
// The duration is 60s by default; set TOKENAUTHORITY_SOAK_DURATION (or
// -soak.duration) to shorten it for a development run. The README's test
// command runs it on its own, without the race detector, whose shadow
// memory would swamp the heap measurement.
//
// How it can hurt you: the daemon and its clients share one process, so the
// goroutine and heap figures include the clients'; the baseline is taken
// with the clients connected so that only growth counts. It uses both
// cores for the whole duration: run it alone, not beside benchmarks.
package soak
