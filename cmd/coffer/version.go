package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// commit and buildDate may be set at build time, like version (main.go):
// -ldflags "-X main.commit=... -X main.buildDate=...". A build from a Git
// checkout needs neither: the go command stamps vcs.revision, vcs.time and
// vcs.modified into the binary. They are for builds without the .git
// directory, such as deploy/Containerfile's.
var (
	commit    = ""
	buildDate = ""
)

// buildInfo is what `coffer version` prints.
type buildInfo struct {
	Version   string // -X main.version, else the main module's version, else "dev"
	Commit    string // -X main.commit, else vcs.revision, else "unknown"
	Modified  bool   // vcs.modified: the work tree had uncommitted changes
	Date      string // -X main.buildDate, else vcs.time (the commit's time), else "unknown"
	GoVersion string
	Platform  string
}

func init() { version = resolveBuildInfo(version, commit, buildDate, debug.ReadBuildInfo).Version }

// resolveBuildInfo combines the -X overrides (ldVersion "dev" and empty
// strings mean unset) with what the go command stamped into the binary.
func resolveBuildInfo(ldVersion, ldCommit, ldDate string, read func() (*debug.BuildInfo, bool)) buildInfo {
	b := buildInfo{Version: ldVersion, Commit: ldCommit, Date: ldDate,
		GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := read(); ok && bi != nil {
		if b.GoVersion == "" {
			b.GoVersion = bi.GoVersion
		}
		if (b.Version == "" || b.Version == "dev") && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			b.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if b.Commit == "" {
					b.Commit = s.Value
				}
			case "vcs.time":
				if b.Date == "" {
					b.Date = s.Value
				}
			case "vcs.modified":
				b.Modified = s.Value == "true"
			}
		}
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	if b.Commit == "" {
		b.Commit = "unknown"
	}
	if b.Date == "" {
		b.Date = "unknown"
	}
	return b
}

// printVersion writes `coffer version`'s output: the first line is
// "coffer VERSION" (as it always was), then one "key: value" line each.
func printVersion(w io.Writer) {
	writeVersion(w, resolveBuildInfo(version, commit, buildDate, debug.ReadBuildInfo))
}

func writeVersion(w io.Writer, b buildInfo) {
	mod := ""
	if b.Modified {
		mod = " (modified)"
	}
	fmt.Fprintf(w, "coffer %s\ncommit: %s%s\nbuilt: %s\ngo: %s %s\n", b.Version, b.Commit, mod, b.Date, b.GoVersion, b.Platform)
}
