package version

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/prometheus/client_golang/prometheus"
)

// Set by the linker: -ldflags "-X <this package>.version=0.1.0 -X <this package>.revision=abc1234".
// Build tooling writes them; nothing in the program does.
var version, revision string

// Dev is the version of a build that was not stamped.
const Dev = "dev"

// Info is one binary's build facts.
type Info struct {
	Version   string // release version (VERSION), or Dev
	Revision  string // `git describe --always --dirty`, or vcs.revision (+"-dirty"), or "unknown"
	GoVersion string // runtime.Version()
	Platform  string // GOOS/GOARCH
}

// Get returns the running binary's build facts.
func Get() Info {
	var settings []debug.BuildSetting
	if bi, ok := debug.ReadBuildInfo(); ok {
		settings = bi.Settings
	}
	return resolve(version, revision, settings)
}

// resolve fills in what the linker did not stamp: version Dev, and the revision from the go
// command's vcs settings.
func resolve(stampedVersion, stampedRevision string, settings []debug.BuildSetting) Info {
	i := Info{Version: stampedVersion, Revision: stampedRevision, GoVersion: runtime.Version(),
		Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if i.Version == "" {
		i.Version = Dev
	}
	if i.Revision == "" {
		i.Revision = vcsRevision(settings)
	}
	return i
}

// vcsRevision is vcs.revision shortened to 12 characters as git describe would show it, with
// "-dirty" when vcs.modified is true, or "unknown".
func vcsRevision(settings []debug.BuildSetting) string {
	rev, dirty := "", false
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "unknown"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return rev
}

// String is the one-line answer to `<binary> --version`.
func (i Info) String(binary string) string {
	return fmt.Sprintf("%s %s (revision %s, %s, %s)", binary, i.Version, i.Revision, i.GoVersion, i.Platform)
}

// NewCollector returns a gauge named name, always 1, labelled with version, revision and
// goversion: the binary's <binary>_build_info.
func (i Info) NewCollector(name, help string) prometheus.Collector {
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: name, Help: help,
		ConstLabels: prometheus.Labels{"version": i.Version, "revision": i.Revision, "goversion": i.GoVersion}})
	g.Set(1)
	return g
}
