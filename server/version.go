package server

import (
	"runtime/debug"
	"strings"
)

// devVersion is Version in a binary built without -ldflags.
const devVersion = "0.1.0-dev"

// Version is the server version, set at build time with
//
//	-ldflags "-X github.com/parley-chat/parley/server.Version=1.2.3"
//
// A binary built without it from a released module (go install
// github.com/parley-chat/parley/cmd/parley@v1.2.3) takes the module's
// version.
var Version = devVersion

func init() {
	if Version != devVersion {
		return
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		Version = strings.TrimPrefix(info.Main.Version, "v")
	}
}

// Build describes the running binary, as the Go toolchain recorded it.
type Build struct {
	Version   string // Version
	GoVersion string // the toolchain that built it, e.g. go1.26.8
	Module    string // the main module's path and version, e.g. github.com/parley-chat/parley v1.2.3
	Revision  string // the VCS commit it was built from; "" when not recorded
	Time      string // the commit's time (RFC 3339); "" when not recorded
	Modified  bool   // the work tree had changes not committed
}

// ReadBuild returns what the binary records about its build.
func ReadBuild() Build {
	b := Build{Version: Version}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	b.GoVersion = info.GoVersion
	b.Module = strings.TrimSpace(info.Main.Path + " " + info.Main.Version)
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}
