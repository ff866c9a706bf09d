package version

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	t.Parallel()
	vcs := []debug.BuildSetting{{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-12-07T10:00:00Z"}}
	deps := []*debug.Module{{Path: "k8s.io/api", Version: "v0.37.2"}, {Path: "k8s.io/client-go", Version: "v0.37.2"}}
	tests := []struct {
		name            string
		bi              *debug.BuildInfo
		ldVer, ldRev    string
		wantShort       string
		wantLines       []string
		wantNotInString string
	}{
		{"go build in a checkout", &debug.BuildInfo{GoVersion: "go1.26.5", Main: debug.Module{Version: "(devel)"}, Deps: deps,
			Settings: append(vcs, debug.BuildSetting{Key: "vcs.modified", Value: "true"})}, "", "",
			"devel (0123456789ab, modified)",
			[]string{"rollout-gate devel", "revision:  0123456789abcdef0123 (modified)", "time:      2026-12-07T10:00:00Z", "go:        go1.26.5", "client-go: v0.37.2"}, ""},
		{"release build sets the version", &debug.BuildInfo{GoVersion: "go1.26.5", Main: debug.Module{Version: "(devel)"}, Deps: deps, Settings: vcs},
			"v1.2.0", "", "1.2.0", []string{"rollout-gate 1.2.0", "revision:  0123456789abcdef0123"}, "modified"},
		{"docker build: no VCS, revision from ldflags", &debug.BuildInfo{GoVersion: "go1.26.5", Main: debug.Module{Version: "(devel)"}, Deps: deps},
			"1.2.0", "feedface", "1.2.0", []string{"rollout-gate 1.2.0", "revision:  feedface"}, "time:"},
		{"go install module@version", &debug.BuildInfo{GoVersion: "go1.26.5", Main: debug.Module{Version: "v1.3.0"}, Deps: deps}, "", "",
			"1.3.0", []string{"rollout-gate 1.3.0"}, "revision"},
		{"pseudo-version keeps the revision", &debug.BuildInfo{Main: debug.Module{Version: "v1.3.1-0.20261207100000-0123456789ab"}, Settings: vcs}, "", "",
			"1.3.1-0.20261207100000-0123456789ab (0123456789ab)", nil, ""},
		{"replaced client-go", &debug.BuildInfo{Deps: []*debug.Module{{Path: "k8s.io/client-go", Version: "v0.37.2", Replace: &debug.Module{Path: "../client-go", Version: "v0.37.3"}}}},
			"", "", "devel", []string{"client-go: v0.37.3"}, ""},
		{"no build info", nil, "", "", "devel", []string{"rollout-gate devel\n"}, "go:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			i := FromBuildInfo(tt.bi, tt.ldVer, tt.ldRev, "")
			if got := i.Short(); got != tt.wantShort {
				t.Errorf("Short() = %q, want %q", got, tt.wantShort)
			}
			s := i.String()
			for _, l := range tt.wantLines {
				if !strings.Contains(s, l) {
					t.Errorf("String() lacks %q:\n%s", l, s)
				}
			}
			if tt.wantNotInString != "" && strings.Contains(s, tt.wantNotInString) {
				t.Errorf("String() has %q:\n%s", tt.wantNotInString, s)
			}
		})
	}
}

// The test binary has build info too: Get must not fail or come back empty.
func TestGet(t *testing.T) {
	t.Parallel()
	if i := Get(); i.Version == "" || i.GoVersion == "" {
		t.Errorf("Get() = %+v, want a version and a Go version", i)
	}
}
