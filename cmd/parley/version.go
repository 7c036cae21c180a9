package main

import (
	"fmt"
	"strings"

	"github.com/parley-chat/parley/server"
)

// versionText is what `parley version` prints: the version, then how the
// binary was built, for bug reports.
func versionText() string {
	b := server.ReadBuild()
	var out strings.Builder
	fmt.Fprintf(&out, "parley %s\n", b.Version)
	if b.GoVersion != "" {
		fmt.Fprintf(&out, "go:       %s\n", b.GoVersion)
	}
	if b.Module != "" {
		fmt.Fprintf(&out, "module:   %s\n", b.Module)
	}
	rev := b.Revision
	if rev == "" {
		rev = "unknown (built without VCS information)"
	} else if b.Modified {
		rev += " (modified)"
	}
	fmt.Fprintf(&out, "revision: %s\n", rev)
	if b.Time != "" {
		fmt.Fprintf(&out, "built from a commit of %s\n", b.Time)
	}
	return out.String()
}
