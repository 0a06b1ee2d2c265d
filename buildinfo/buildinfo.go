package buildinfo

import (
	"fmt"
	"runtime/debug"
)

// The release build (deploy/build) stamps these with -ldflags
// "-X tokenauthority/buildinfo.version=v0.1.0" and so on; they win over what
// the toolchain recorded, which lacks the release version and, in a git
// worktree or with -buildvcs=false, the commit. Set only by the linker,
// never at run time.
var version, commit, date string

// Info is what the binary knows about its own build.
type Info struct {
	Version   string // stamped release version, else the module version ("(devel)" for a build from a checkout)
	Commit    string // VCS revision, with "-dirty" when the tree had changes
	Date      string // commit time (RFC 3339), the closest to a build date Go records
	GoVersion string
}

// Read returns the build information of the running binary.
func Read() Info {
	info := Info{Version: "unknown", Commit: "unknown", Date: "unknown", GoVersion: "unknown"}
	bi, ok := debug.ReadBuildInfo()
	if ok {
		info = fromBuildInfo(info, bi)
	}
	for _, s := range []struct{ stamped, dst *string }{{&version, &info.Version}, {&commit, &info.Commit}, {&date, &info.Date}} {
		if *s.stamped != "" {
			*s.dst = *s.stamped
		}
	}
	return info
}

// fromBuildInfo fills info from what the Go toolchain recorded.
func fromBuildInfo(info Info, bi *debug.BuildInfo) Info {
	info.GoVersion = bi.GoVersion
	if bi.Main.Version != "" {
		info.Version = bi.Main.Version
	}
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			info.Commit = s.Value
		case "vcs.time":
			info.Date = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if modified && info.Commit != "unknown" {
		info.Commit += "-dirty"
	}
	return info
}

// String is the one-line answer to --version, without the program name.
func (i Info) String() string {
	return fmt.Sprintf("%s (commit %s, date %s, %s)", i.Version, i.Commit, i.Date, i.GoVersion)
}
