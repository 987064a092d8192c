// Package buildinfo carries the version of the binary, set at build time with -ldflags -X from git describe.
package buildinfo

import (
	"runtime"
	"runtime/debug"
)

// Set by the Makefile: -X github.com/skoala-dev/kubectl-skoala/pkg/buildinfo.Version=$(git describe ...).
var (
	Version   = ""
	GitCommit = ""
	BuildDate = ""
)

// Info is the client version report.
type Info struct {
	Version   string `json:"version"`
	GitCommit string `json:"gitCommit,omitempty"`
	BuildDate string `json:"buildDate,omitempty"`
	GoVersion string `json:"goVersion"`
	Platform  string `json:"platform"`
}

// Get returns the build information; a binary built without ldflags reports its module version or "dev".
func Get() Info {
	v := Version
	if v == "" {
		v = "dev"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
	}
	return Info{Version: v, GitCommit: GitCommit, BuildDate: BuildDate, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
}
