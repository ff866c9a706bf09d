// Package version says which gate produced a report: the release's version (set with -ldflags by
// the release build), else the module version Go recorded, with the VCS revision and time, the Go
// version and the client-go version, all from runtime/debug.ReadBuildInfo.
package version

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// Set by the release build, which knows the tag even where Go does not (a Docker build has no
// .git, so no VCS stamp):
//
//	go build -ldflags "-X github.com/rollout-gate/rollout-gate/internal/version.version=1.2.0
//	  -X github.com/rollout-gate/rollout-gate/internal/version.revision=$GITHUB_SHA" ./cmd/gate
var (
	version   string
	revision  string
	buildTime string
)

// Info is what `gate version` prints and what the reports carry.
type Info struct {
	Version   string `json:"version"`            // 1.2.0, a module pseudo-version, or devel
	Revision  string `json:"revision,omitempty"` // the VCS commit
	Time      string `json:"time,omitempty"`     // the commit's time (RFC 3339)
	Modified  bool   `json:"modified,omitempty"` // built from a tree with uncommitted changes
	GoVersion string `json:"goVersion,omitempty"`
	ClientGo  string `json:"clientGoVersion,omitempty"`
}

// Get is the running binary's Info.
func Get() Info {
	bi, _ := debug.ReadBuildInfo()
	return FromBuildInfo(bi, version, revision, buildTime)
}

// FromBuildInfo combines what Go recorded in the binary with what the release set by -ldflags
// (which wins: it is the tag the release was made from). bi may be nil (a binary built without
// module support).
func FromBuildInfo(bi *debug.BuildInfo, ldVersion, ldRevision, ldTime string) Info {
	var i Info
	if bi != nil {
		i.GoVersion = bi.GoVersion
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			i.Version = v
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				i.Revision = s.Value
			case "vcs.time":
				i.Time = s.Value
			case "vcs.modified":
				i.Modified = s.Value == "true"
			}
		}
		for _, d := range bi.Deps {
			if d.Path == "k8s.io/client-go" {
				i.ClientGo = d.Version
				if d.Replace != nil {
					i.ClientGo = d.Replace.Version
				}
			}
		}
	}
	if ldVersion != "" {
		i.Version = ldVersion
	}
	if ldRevision != "" {
		i.Revision = ldRevision
	}
	if ldTime != "" {
		i.Time = ldTime
	}
	if i.Version == "" {
		i.Version = "devel"
	}
	return i
}

// Short is the one-line form for report footers: "1.2.0", or "devel (abc1234f, modified)" for a
// build that is not a release.
func (i Info) Short() string {
	v := strings.TrimPrefix(i.Version, "v")
	if i.Version != "devel" && !strings.Contains(v, "-0.") { // a release, not a pseudo-version
		return v
	}
	var extra []string
	if i.Revision != "" {
		extra = append(extra, shortRev(i.Revision))
	}
	if i.Modified {
		extra = append(extra, "modified")
	}
	if len(extra) == 0 {
		return v
	}
	return v + " (" + strings.Join(extra, ", ") + ")"
}

// String is what `gate version` prints, one fact a line.
func (i Info) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "rollout-gate %s\n", strings.TrimPrefix(i.Version, "v"))
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "  %-10s %s\n", k+":", v)
		}
	}
	rev := i.Revision
	if rev != "" && i.Modified {
		rev += " (modified)"
	}
	line("revision", rev)
	line("time", i.Time)
	line("go", i.GoVersion)
	line("client-go", i.ClientGo)
	return b.String()
}

func shortRev(r string) string {
	if len(r) > 12 {
		return r[:12]
	}
	return r
}
