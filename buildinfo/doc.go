// Package buildinfo describes the running binary: the release version
// stamped by the release build (deploy/build: the git tag, or CHANGELOG.md's
// newest release in a clone without tags), and what the Go toolchain embeds:
// module version, VCS commit and commit time.
//
// How it can hurt you: a plain `go build` stamps no release version, and a
// binary built with -buildvcs=false, or from a source tree that is not a git
// checkout, carries no commit; `go run` and tests carry "(devel)" as the
// version. The text then says "unknown" rather than inventing a value, so do
// not parse it as a semantic version unless the binary came from the release
// build.
package buildinfo
