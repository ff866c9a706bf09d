package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rollout-gate/rollout-gate/internal/version"
)

var testVersion = version.Info{Version: "1.2.0", Revision: "0123456789abcdef", Time: "2026-12-07T10:00:00Z", GoVersion: "go1.26.5", ClientGo: "v0.37.2"}

// `gate version` and `--version` print the build's facts on stdout and exit 0, whatever else the
// command line holds; after `--` it is not the flag.
func TestVersion(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		args     []string
		wantCode int
		want     string
	}{
		{[]string{"version"}, 0, "rollout-gate 1.2.0\n  revision:  0123456789abcdef\n  time:      2026-12-07T10:00:00Z\n  go:        go1.26.5\n  client-go: v0.37.2\n"},
		{[]string{"--version"}, 0, "rollout-gate 1.2.0\n"},
		{[]string{"--workload", "deploy/api", "--version"}, 0, "client-go: v0.37.2"},
		{[]string{"--", "--version"}, 2, ""},
	} {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), tt.args, env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr,
			getenv: func(string) string { return "" }, now: time.Now, version: testVersion})
		if code != tt.wantCode || !strings.Contains(stdout.String(), tt.want) {
			t.Errorf("gate %v: exit %d, stdout %q; want exit %d and %q (stderr %q)", tt.args, code, stdout.String(), tt.wantCode, tt.want, stderr.String())
		}
	}
}

// The JSON report says which gate wrote it, even when the run could not start.
func TestReportCarriesTheVersion(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "report.json")
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--workload", "deploy/api", "--kubeconfig", "/nonexistent/config", "--report-json", path},
		env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }, now: time.Now, version: testVersion})
	if code != 2 {
		t.Fatalf("exit %d, want 2; stderr %s", code, stderr.String())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		GateVersion string `json:"gateVersion"`
	}
	if err := json.Unmarshal(b, &r); err != nil || r.GateVersion != "1.2.0" {
		t.Errorf("gateVersion %q (%v), want 1.2.0:\n%s", r.GateVersion, err, b)
	}
}
