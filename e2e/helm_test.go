//go:build e2e

package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rollout-gate/rollout-gate/e2e/framework"
	"github.com/rollout-gate/rollout-gate/internal/report"
)

// Issue 13, Helm releases: `helm upgrade --install` with a real Helm 4 of the chart in
// testdata/charts/shop (a Deployment, a Service, a migration Job and a pre-upgrade hook Job), then
// `gate --helm-release shop`, which reads the release's current revision from Helm's storage.
// Helm does not wait (no --wait): the gate does the waiting.

// helmChart is the chart the tests install.
const helmChart = "testdata/charts/shop"

var helmBin struct {
	once sync.Once
	path string
	err  error
}

// helmBinary is $ROLLOUT_GATE_HELM (make test-e2e sets it), else the Helm 4 that hack/tools.sh
// builds once into the cache. A missing Helm fails the test, in CI and out of it: skipping would
// let the suite pass without proving anything about Helm releases.
func helmBinary(t *testing.T) string {
	t.Helper()
	helmBin.once.Do(func() {
		if p := os.Getenv("ROLLOUT_GATE_HELM"); p != "" {
			if _, err := os.Stat(p); err != nil {
				helmBin.err = err
			}
			helmBin.path = p
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "hack/tools.sh", "helm")
		cmd.Dir = ".."
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			helmBin.err = &exec.Error{Name: "hack/tools.sh helm: " + stderr.String(), Err: err}
			return
		}
		helmBin.path = strings.TrimSpace(string(out))
	})
	if helmBin.err != nil {
		t.Fatalf("no Helm 4 binary (set ROLLOUT_GATE_HELM, or let hack/tools.sh helm build it): %v", helmBin.err)
	}
	return helmBin.path
}

// helm runs the Helm binary against the test cluster with its own kubeconfig and its own
// (throwaway) config, cache and data folders, plus extra environment such as HELM_DRIVER.
func helm(t *testing.T, env []string, args ...string) string {
	t.Helper()
	bin := helmBinary(t)
	home := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+framework.Kubeconfig(t),
		"HELM_CONFIG_HOME="+filepath.Join(home, "config"), "HELM_CACHE_HOME="+filepath.Join(home, "cache"),
		"HELM_DATA_HOME="+filepath.Join(home, "data"), "HELM_DRIVER=")
	cmd.Env = append(cmd.Env, env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("helm %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	t.Logf("helm %s:\n%s", strings.Join(args, " "), out)
	return string(out)
}

// helmUpgrade installs or upgrades release shop in ns, without --wait.
func helmUpgrade(t *testing.T, ns string, env []string, set ...string) {
	t.Helper()
	framework.GateBinary(t) // built first, so that the gate starts right after helm
	args := append([]string{"upgrade", "--install", "shop", helmChart, "-n", ns}, set...)
	helm(t, env, args...)
}

// wantHelmSource checks that a workload's source is its chart template in release shop.
func wantHelmSource(t *testing.T, w report.Workload, template string, revision int, hook string) {
	t.Helper()
	s := w.Source
	if s == nil || s.File != template || s.Line != 0 || s.Helm == nil || s.Helm.Release != "shop" || s.Helm.Revision != revision || s.Helm.Hook != hook {
		t.Errorf("%s: source %+v (helm %+v), want template %s of release shop revision %d, hook %q", w.Ref(), s, s.Helm, template, revision, hook)
	}
}

// TestHelmReleaseGood: a good install passes, with every resource named by its chart template,
// in both of Helm's in-cluster storage drivers; an unknown release is an input error.
func TestHelmReleaseGood(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, driver string }{
		{"secrets", ""},
		// The gate runs without HELM_DRIVER: it looks in ConfigMaps when no Secret holds the release.
		{"configmaps", "configmap"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ns := framework.Namespace(t)
			helmUpgrade(t, ns, []string{"HELM_DRIVER=" + tc.driver})
			run := runGate(t, "--helm-release", "shop", "-n", ns, "--timeout", "3m", "--soak", "2s")
			run.mustEnd(t, 0, report.VerdictHealthy)
			for _, want := range []struct {
				ref, template, hook string
				verdict             report.Verdict
			}{
				{"deployment/api", "shop/templates/deployment.yaml", "", report.VerdictHealthy},
				{"job/migrate-r1", "shop/templates/migrate-job.yaml", "", report.VerdictHealthy},
				{"job/schema", "shop/templates/hook-job.yaml", "pre-install,pre-upgrade", report.VerdictHealthy},
				{"service/api", "shop/templates/service.yaml", "", report.VerdictSkipped},
			} {
				w := run.workload(t, want.ref)
				if w.Verdict != want.verdict {
					t.Errorf("%s: verdict %s, want %s", want.ref, w.Verdict, want.verdict)
				}
				wantHelmSource(t, w, want.template, 1, want.hook)
			}
			wantDriver := "stored in " + map[string]string{"": "secrets", "configmap": "configmaps"}[tc.driver]
			if !strings.Contains(run.Stderr, "helm release shop -n "+ns+": revision 1 (deployed, "+wantDriver+")") {
				t.Errorf("the progress does not say which revision it gates, and from where (%s):\n%s", wantDriver, run.Stderr)
			}

			unknown := runGate(t, "--helm-release", "nope", "-n", ns)
			if unknown.Exit != 2 || !strings.Contains(unknown.Stderr, "helm release nope not found in namespace "+ns) || !strings.Contains(unknown.Stderr, "helm list -n "+ns) {
				t.Errorf("unknown release: exit %d, want 2 with the release, its namespace and `helm list`:\n%s", unknown.Exit, unknown.Stderr)
			}
		})
	}
}

// TestHelmReleaseBrokenUpgrade: revision 2 makes the Deployment crash; helm (not waiting) says
// the upgrade succeeded, the gate fails it and names the chart template that rendered it.
func TestHelmReleaseBrokenUpgrade(t *testing.T) {
	t.Parallel()
	ns := framework.Namespace(t)
	helmUpgrade(t, ns, nil)
	helmUpgrade(t, ns, nil, "--set-json", `apiArgs=["--print","FATAL: cannot load config","--exit-code","1"]`)
	run := runGate(t, "--helm-release", "shop", "-n", ns, "--timeout", "3m", "--rollback")
	run.mustEnd(t, 1, report.VerdictFailed)
	api := run.workload(t, "deployment/api")
	if api.Verdict != report.VerdictFailed {
		t.Fatalf("deployment/api: verdict %s (%s), want failed", api.Verdict, api.Message)
	}
	wantHelmSource(t, api, "shop/templates/deployment.yaml", 2, "")
	// This gate is built without Helm's library: --rollback refuses to undo a release's resources
	// behind Helm's back and gives Helm's command; the command is right: run as given, it makes
	// revision 3 a rollback to 1. (TestHelmRollbackWithHelmsLibrary runs the rollback itself.)
	wantCmd := fmt.Sprintf("helm rollback shop 1 -n %s", ns)
	if api.Rollback == nil || api.Rollback.Status != report.RollbackRefused || api.Rollback.Undone || !strings.Contains(api.Rollback.Message, "`"+wantCmd+"`") {
		t.Fatalf("deployment/api rollback %+v, want refused with %q", api.Rollback, wantCmd)
	}
	helm(t, nil, strings.Fields(wantCmd)[1:]...)
	if h := helm(t, nil, "history", "shop", "-n", ns); !strings.Contains(h, "Rollback to 1") {
		t.Errorf("helm history after the command the gate gave shows no rollback to 1:\n%s", h)
	}
	if !strings.Contains(run.Stdout, "shop/templates/deployment.yaml") {
		t.Errorf("the text report does not name the chart template:\n%s", run.Stdout)
	}
	if strings.Contains(run.Stdout, "deployment.yaml:0") {
		t.Errorf("the text report shows a line 0 for a chart template:\n%s", run.Stdout)
	}
	// Revision 2's own Job and hook, not revision 1's.
	wantHelmSource(t, run.workload(t, "job/migrate-r2"), "shop/templates/migrate-job.yaml", 2, "")
	wantHelmSource(t, run.workload(t, "job/schema"), "shop/templates/hook-job.yaml", 2, "pre-install,pre-upgrade")
	for _, w := range run.Report.Workloads {
		if w.Name == "migrate-r1" {
			t.Errorf("the gate judged revision 1's job/migrate-r1")
		}
	}
	t.Logf("broken upgrade failed in %s: %s", run.Duration.Round(time.Millisecond), api.Message)
}
