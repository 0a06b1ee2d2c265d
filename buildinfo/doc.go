// Package buildinfo describes the running binary from the information the Go
// toolchain embeds in it: module version, VCS commit and commit time.
//
// How it can hurt you: a binary built with -buildvcs=false, or from a source
// tree that is not a git checkout, carries no commit; `go run` and tests carry
// "(devel)" as the version. The text then says "unknown" rather than
// inventing a value, so do not parse it as a semantic version.
package buildinfo
