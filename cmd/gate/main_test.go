package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rollout-gate/rollout-gate/internal/githubtest"
)

// TestRunInputErrors runs the whole command without a cluster: bad input must end in exit 2 with
// a message that says what to fix, never a stack trace, and -o json still gives a report.
func TestRunInputErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		args       []string
		env        map[string]string
		wantCode   int
		wantStderr string
		wantJSON   bool
	}{
		{name: "help", args: []string{"--help"}, wantCode: 0, wantStderr: "Usage: gate"},
		{name: "no targets", args: nil, wantCode: 2, wantStderr: "nothing to watch"},
		{name: "bad flag value", args: []string{"--workload", "deploy/api", "--soak", "later"}, wantCode: 2, wantStderr: `invalid argument "later" for "--soak"`},
		{name: "missing kubeconfig", args: []string{"--workload", "deploy/api", "--kubeconfig", "/nonexistent/config"}, wantCode: 2, wantStderr: "kubeconfig from --kubeconfig: /nonexistent/config does not exist"},
		{name: "json report on bad input", args: []string{"--workload", "deploy/api", "--timeout", "-1s", "-o", "json"}, wantCode: 2, wantStderr: "--timeout -1s", wantJSON: true},
		{name: "action inputs", env: map[string]string{"GITHUB_ACTIONS": "true", "INPUT_WORKLOAD": "deploy/api", "INPUT_CRASH-TOLERANCE": "many"},
			wantCode: 2, wantStderr: `invalid argument "many" for "--crash-tolerance"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, env{
				stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr,
				getenv: func(k string) string { return tt.env[k] }, now: time.Now,
			})
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, tt.wantCode, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr %q does not contain %q", stderr.String(), tt.wantStderr)
			}
			if strings.Contains(stderr.String(), "goroutine") {
				t.Errorf("stack trace on stderr:\n%s", stderr.String())
			}
			if tt.wantJSON {
				var r struct {
					SchemaVersion int    `json:"schemaVersion"`
					Verdict       string `json:"verdict"`
					Message       string `json:"message"`
				}
				if err := json.Unmarshal(stdout.Bytes(), &r); err != nil || r.SchemaVersion != 1 || r.Verdict != "error" || r.Message == "" {
					t.Errorf("stdout is not a v1 error report (%v): %s", err, stdout.String())
				}
			}
		})
	}
}

// TestRunBadActionInputStillWritesOutputs: a typo in the workflow must not leave later steps
// without a verdict.
func TestRunBadActionInputStillWritesOutputs(t *testing.T) {
	t.Parallel()
	runner := githubtest.NewRunner(t, "push", `{}`)
	for k, v := range map[string]string{"INPUT_WORKLOAD": "deploy/api", "INPUT_TIMEOUT": "soon",
		"INPUT_GITHUB-TOKEN": "ghs_secretvalue", "GITHUB_REPOSITORY": "o/r"} {
		runner.Env[k] = v
	}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), nil, env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr,
		getenv: runner.Getenv, now: time.Now})
	if code != 2 {
		t.Fatalf("exit %d, want 2", code)
	}
	out := runner.Outputs(t)
	if out["verdict"] != "error" {
		t.Errorf("outputs %q, want verdict=error", out)
	}
	summary := runner.Summary(t)
	if !strings.Contains(summary, "--timeout") {
		t.Errorf("summary %q does not say what was wrong", summary)
	}
	if !strings.HasPrefix(stdout.String(), "::add-mask::ghs_secretvalue\n") || strings.Count(stdout.String()+summary+fmt.Sprint(out), "ghs_secretvalue") != 1 {
		t.Errorf("the token is not masked first, or appears again:\n%s", stdout.String())
	}
}
