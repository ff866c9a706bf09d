package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes/fake"

	"github.com/rollout-gate/rollout-gate/internal/fault"
	"github.com/rollout-gate/rollout-gate/internal/kube/kubetest"
)

// TestReportFilesDoNotFollowLinks is issue 20's attack: a link planted in the workspace at the
// report's path would have the gate write through it. It writes nothing there, and exits 2
// naming the path; a plain file is replaced, a new one created.
func TestReportFilesDoNotFollowLinks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		plant    func(t *testing.T, path, victim string)
		wantCode int
		wantErr  string
	}{
		{name: "a symlink at the path", wantCode: fault.ExitInvalid, wantErr: "is a symbolic link",
			plant: func(t *testing.T, path, victim string) {
				if err := os.Symlink(victim, path); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "a dangling symlink at the path", wantCode: fault.ExitInvalid, wantErr: "is a symbolic link",
			plant: func(t *testing.T, path, victim string) {
				if err := os.Symlink(victim+".new", path); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "a FIFO at the path", wantCode: fault.ExitInvalid, wantErr: "not a regular file",
			plant: func(t *testing.T, path, _ string) {
				if err := syscall.Mkfifo(path, 0o644); err != nil {
					t.Skipf("mkfifo: %v", err)
				}
			}},
		{name: "an old report is replaced", wantCode: fault.ExitFailed,
			plant: func(t *testing.T, path, _ string) {
				if err := os.WriteFile(path, bytes.Repeat([]byte("x"), 1<<16), 0o644); err != nil {
					t.Fatal(err)
				}
			}},
		{name: "a new file is created", wantCode: fault.ExitFailed, plant: func(*testing.T, string, string) {}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			victim := filepath.Join(dir, "victim")
			if err := os.WriteFile(victim, []byte("keep"), 0o600); err != nil {
				t.Fatal(err)
			}
			for _, flag := range []string{"--report-json", "--report-markdown"} {
				path := filepath.Join(dir, strings.TrimPrefix(flag, "--"))
				tt.plant(t, path, victim)
				var stdout, stderr bytes.Buffer
				// The rollout never finishes: the run times out (exit 1) and writes its report.
				client := fake.NewClientset(kubetest.Deployment("prod", "api", "app:v2", 2, 2, 1, 0))
				code := run(context.Background(), []string{"--workload", "deploy/api", "--timeout", "1s", "--log-lines", "0", flag, path},
					env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" },
						now: time.Now, connect: connectTo(client)})
				if code != tt.wantCode {
					t.Errorf("%s: exit %d, want %d\nstderr: %s", flag, code, tt.wantCode, stderr.String())
				}
				if tt.wantErr != "" && (!strings.Contains(stderr.String(), tt.wantErr) || !strings.Contains(stderr.String(), path)) {
					t.Errorf("%s: stderr %q does not say %q naming %s", flag, stderr.String(), tt.wantErr, path)
				}
				if got, _ := os.ReadFile(victim); string(got) != "keep" {
					t.Errorf("%s: the link's target was written: %q", flag, got)
				}
				if _, err := os.Lstat(victim + ".new"); err == nil {
					t.Errorf("%s: the dangling link's target was created", flag)
				}
				if tt.wantErr == "" {
					got, err := os.ReadFile(path)
					if err != nil || bytes.Contains(got, []byte("xxxx")) || len(got) == 0 {
						t.Errorf("%s: report file %d bytes (%v), want the new report alone", flag, len(got), err)
					}
				}
			}
		})
	}
}
