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

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/rollout-gate/rollout-gate/internal/app"
	"github.com/rollout-gate/rollout-gate/internal/githubtest"
	"github.com/rollout-gate/rollout-gate/internal/kube/kubetest"
	"github.com/rollout-gate/rollout-gate/internal/report"
)

// progressingCluster holds a Deployment whose rollout never finishes.
func progressingCluster() *fake.Clientset {
	return fake.NewClientset(kubetest.Deployment("prod", "api", "app:v2", 2, 2, 1, 0))
}

// connectTo is a connect that serves client, in namespace prod.
func connectTo(client kubernetes.Interface) func(*app.Options, func(string) string) (*app.Cluster, error) {
	return func(*app.Options, func(string) string) (*app.Cluster, error) {
		return &app.Cluster{Client: kubetest.Wrap(client), Namespace: "prod"}, nil
	}
}

// runActions runs the gate as the Action would, with the cluster given, and returns the exit
// code, stderr, the outputs file and the JSON report.
func runActions(t *testing.T, ctx context.Context, client kubernetes.Interface, args ...string) (int, string, map[string]string, report.Report) {
	t.Helper()
	runner := githubtest.NewRunner(t, "push", `{}`)
	dir := runner.Dir
	runner.Env["GITHUB_WORKSPACE"] = dir
	args = append([]string{"--comment", "never", "--report-json", filepath.Join(dir, "report.json")}, args...)
	var stdout, stderr bytes.Buffer
	code := run(ctx, args, env{stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr,
		getenv: runner.Getenv, now: time.Now, connect: connectTo(client)})
	out := runner.Outputs(t)
	var r report.Report
	js, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err == nil {
		err = json.Unmarshal(js, &r)
	}
	if err != nil {
		t.Errorf("no JSON report: %v", err)
	}
	return code, stderr.String(), out, r
}

// Every path that ends in verdict error exits 3 with an error line, and the outputs say error.
func TestExitCodeFollowsVerdict(t *testing.T) {
	t.Parallel()
	throttled := func() kubernetes.Interface {
		c := progressingCluster()
		c.PrependReactor("get", "deployments", func(k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, apierrors.NewTooManyRequests("the server has received too many requests", 1)
		})
		return c
	}
	unavailable := func() kubernetes.Interface {
		c := progressingCluster()
		c.PrependReactor("list", "deployments", func(k8stesting.Action) (bool, runtime.Object, error) {
			return true, nil, apierrors.NewGenericServerResponse(503, "list", schema.GroupResource{Group: "apps", Resource: "deployments"}, "", "unavailable", 0, true)
		})
		return c
	}
	tests := []struct {
		name       string
		client     func() kubernetes.Interface
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"bad selector", func() kubernetes.Interface { return progressingCluster() }, []string{"-l", "app in (a"}, 2, "-l \"app in (a\": not a label selector"},
		{"429 from the API", throttled, []string{"--workload", "deploy/api"}, 3, "throttled or failed"},
		{"503 from the API", unavailable, []string{"-l", "app=api"}, 3, "throttled or failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stderr, out, r := runActions(t, context.Background(), tt.client(), tt.args...)
			if code != tt.wantCode || r.Verdict != report.VerdictError {
				t.Errorf("exit %d verdict %q, want %d error; stderr:\n%s", code, r.Verdict, tt.wantCode, stderr)
			}
			if !strings.Contains(stderr, "error: ") || !strings.Contains(stderr, tt.wantStderr) {
				t.Errorf("stderr %q lacks an error line with %q", stderr, tt.wantStderr)
			}
			if out["verdict"] != "error" {
				t.Errorf("outputs %q, want verdict=error", out)
			}
		})
	}
}

// A signal during the watch ends the run at once with verdict error, exit 3, and the report,
// summary and outputs written. The watch would otherwise last ten minutes.
func TestCancelMidWatch(t *testing.T) {
	t.Parallel()
	client := progressingCluster()
	ctx, cancel := context.WithCancel(context.Background())
	watching := make(chan struct{})
	client.PrependWatchReactor("*", func(k8stesting.Action) (bool, watch.Interface, error) {
		select {
		case <-watching:
		default:
			close(watching)
		}
		return false, nil, nil
	})
	go func() {
		<-watching
		cancel()
	}()
	code, stderr, out, r := runActions(t, ctx, client, "--workload", "deploy/api", "--timeout", "10m")
	if code != 3 || r.Verdict != report.VerdictError || !strings.Contains(r.Message, "cancelled") {
		t.Errorf("exit %d verdict %q message %q, want 3, error, cancelled; stderr:\n%s", code, r.Verdict, r.Message, stderr)
	}
	if !strings.Contains(stderr, "error: the run was cancelled") {
		t.Errorf("stderr %q does not say the run was cancelled", stderr)
	}
	if out["verdict"] != "error" {
		t.Errorf("outputs %q, want verdict=error", out)
	}
}

// A GitHub API that accepts the connection and never answers does not change the exit code or
// lose the outputs; the publish deadline ends the wait.
func TestHungGitHubKeepsExitCode(t *testing.T) {
	t.Parallel()
	srv := githubtest.Silent(t)
	runner := githubtest.NewRunner(t, "pull_request", `{"pull_request":{"number":7}}`)
	for k, v := range map[string]string{"GITHUB_WORKSPACE": runner.Dir, "GITHUB_REPOSITORY": "o/r",
		"GITHUB_API_URL": srv.URL + "/api/v3", "INPUT_GITHUB-TOKEN": "ghs_x"} {
		runner.Env[k] = v
	}
	var stdout, stderr bytes.Buffer
	client := hostileCluster(t)
	code := run(context.Background(), []string{"--workload", "deploy/api", "--comment", "always"}, env{
		stdin: strings.NewReader(""), stdout: &stdout, stderr: &stderr,
		getenv: runner.Getenv, now: time.Now, httpClient: srv.Client(),
		publishTimeout: 200 * time.Millisecond, connect: connectTo(client)})
	if code != 1 {
		t.Errorf("exit %d, want 1 (the rollout failed; GitHub's silence changes nothing)", code)
	}
	if out := runner.Outputs(t); out["verdict"] != "failed" {
		t.Errorf("outputs %q, want verdict=failed", out)
	}
	if !strings.Contains(stdout.String(), "::warning::no PR comment: ") {
		t.Errorf("no warning about the comment:\n%s", stdout.String())
	}
}
