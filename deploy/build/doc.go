// Package build compiles the release binaries the way every shipped
// artefact is compiled (static, -trimpath, version stamped) and works out
// the version to stamp. The release program (deploy/release), the image
// build and the deployment tests all go through it, so that the image
// holds exactly what the release ships.
//
// How it can hurt you: the version comes from `git describe --tags`; a
// clone without tags (CI's shallow clones often have none) gets the newest
// release of CHANGELOG.md with "+untagged" and the commit, which names the
// release the tree descends from, not necessarily the tree itself. A build
// shells out to the go command found in PATH, with GOFLAGS from the
// environment; the commit is stamped from git directly, since the toolchain
// records none in a git worktree or under -buildvcs=false.
package build
