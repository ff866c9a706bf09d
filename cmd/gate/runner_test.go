package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/rollout-gate/rollout-gate/internal/githubtest"
	"github.com/rollout-gate/rollout-gate/internal/kube/kubetest"
)

// hostile are payloads a pull request can put in cluster text: each would be a workflow command
// if it reached the runner raw.
const hostile = "::error title=PWNED::PWNED-1\n##[warning]PWNED-2\n::add-mask::PWNED-3 ::set-output name=PWNED::x ##[set-env name=PWNED]y"

// hostileCluster is a failed Deployment whose condition message and events carry payloads.
func hostileCluster(t *testing.T) kubernetes.Interface {
	t.Helper()
	d := kubetest.PastDeadline(kubetest.Deployment("prod", "api", "app:v2", 2, 1, 1, 0),
		"ReplicaSet \"api-2\" has timed out progressing.\n"+hostile)
	d.Annotations = map[string]string{"deployment.kubernetes.io/revision": "2"}
	return fake.NewClientset(d, kubetest.ReplicaSetFor(d, 2), kubetest.WarningEvent("prod", "Deployment", "api", "Hostile", hostile))
}

// TestActionsOutputCarriesOnlyGateCommands runs the gate in Actions mode against a cluster whose
// text is full of workflow commands, in every output format and on error paths, and reads stdout
// and stderr as the runner would: every command found must be one the gate wrote itself.
func TestActionsOutputCarriesOnlyGateCommands(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		wantCode int
	}{
		{"json report", []string{"--workload", "deploy/api", "-o", "json"}, 1},
		{"text report", []string{"--workload", "deploy/api"}, 1},
		{"bad selector", []string{"-l", "app in (" + hostile}, 2},
		{"hostile manifest name", []string{"-f", "MANIFEST"}, 2},
		{"hostile workload name", []string{"--workload", "deploy/" + hostile}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			manifest := filepath.Join(dir, "app.yaml")
			if err := os.WriteFile(manifest, []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: \"api ##[error]PWNED\"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			args := append([]string{"--timeout", "20s", "--comment", "never"}, tt.args...)
			for i, a := range args {
				if a == "MANIFEST" {
					args[i] = manifest
				}
			}
			vars := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": filepath.Join(dir, "out"),
				"GITHUB_STEP_SUMMARY": filepath.Join(dir, "summary"), "GITHUB_WORKSPACE": dir,
				"INPUT_GITHUB-TOKEN": "ghs_token"}
			client := hostileCluster(t)
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), args, env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr,
				getenv: func(k string) string { return vars[k] }, now: time.Now, connect: connectTo(client)})
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, tt.wantCode, stderr.String())
			}
			if !strings.Contains(stdout.String()+stderr.String(), "PWNED") {
				t.Fatalf("the payload is not in the output at all, so the test proves nothing:\n%s\n%s", stdout.String(), stderr.String())
			}
			for stream, out := range map[string]string{"stdout": stdout.String(), "stderr": stderr.String()} {
				for _, c := range githubtest.Commands(out) {
					own := !c.Legacy && (c.Name == "add-mask" || c.Name == "warning" || c.Name == "notice" ||
						c.Name == "error" || c.Name == "stop-commands" || c.Name == "resume")
					if !own || strings.Contains(c.Properties+" "+c.Message, "PWNED") || stream == "stderr" {
						t.Errorf("%s carries a command the gate did not write: %q", stream, c.Line)
					}
				}
			}
		})
	}
}
