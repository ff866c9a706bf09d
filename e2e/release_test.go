//go:build e2e

package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/rollout-gate/rollout-gate/e2e/framework"
	"github.com/rollout-gate/rollout-gate/internal/report"
)

// Issue 13: gating the whole release.

// slowStart is a Deployment that becomes ready only after startup (its app listens then), behind
// a startup probe patient enough for it: a slow rollout, not a broken one.
func slowStart(ns, name string, startup time.Duration) *appsv1.Deployment {
	d := framework.Deployment(ns, name, "--startup-delay", startup.String())
	ctr := &d.Spec.Template.Spec.Containers[0]
	ctr.StartupProbe = framework.HTTPProbe("/health")
	ctr.StartupProbe.FailureThreshold = int32(startup/time.Second) + 30
	ctr.ReadinessProbe = framework.HTTPProbe("/ready")
	return d
}

// available reads whether deployment name has every replica available now.
func available(t *testing.T, c kubernetes.Interface, ns, name string) bool {
	t.Helper()
	d, err := c.AppsV1().Deployments(ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get deployment %s: %v", name, err)
	}
	return framework.DeploymentAvailable(d)
}

// runCrashAndSlow applies a Deployment that crash-loops and one that is slow to start (60 s) and
// runs the gate on both, with extra flags.
func runCrashAndSlow(t *testing.T, extra ...string) (run gateRun, c kubernetes.Interface, ns string) {
	t.Helper()
	c, ns = framework.Client(t), framework.Namespace(t)
	framework.GateBinary(t) // built before the apply, so that the gate starts with the rollouts
	framework.Apply(t, c, slowStart(ns, "slow", 60*time.Second))
	framework.Apply(t, c, framework.Deployment(ns, "crash", "--print", "starting", "--exit-code", "1"))
	args := []string{"-n", ns, "--workload", "deployment/crash", "--workload", "deployment/slow", "--soak", "10s"}
	return runGate(t, append(args, extra...)...), c, ns
}

func TestReleaseFirstFailureEndsTheRun(t *testing.T) {
	t.Parallel()
	run, c, ns := runCrashAndSlow(t)
	// Read at once: the slow Deployment cannot be available before its app listens (60 s).
	slowAvailable := available(t, c, ns, "slow")
	run.mustEnd(t, 1, report.VerdictFailed)
	if w := run.workload(t, "deployment/crash"); w.Verdict != report.VerdictFailed || w.Reason != "CrashLoopBackOff" {
		t.Errorf("deployment/crash %s %s, want failed CrashLoopBackOff", w.Verdict, w.Reason)
	}
	slow := run.workload(t, "deployment/slow")
	if slow.Verdict != report.VerdictInterrupted || !strings.Contains(slow.Message, "deployment/crash failed") {
		t.Errorf("deployment/slow %s %q, want interrupted by deployment/crash", slow.Verdict, slow.Message)
	}
	if slowAvailable {
		t.Errorf("deployment/slow was available when the gate returned: the run waited for the slowest rollout")
	}
	if !strings.Contains(run.Stdout, "deployment/slow INTERRUPTED") {
		t.Errorf("the text report does not show the interrupted workload:\n%s", run.Stdout)
	}
	t.Logf("first failure ended the run after %s; deployment/slow: %s", run.Duration.Round(time.Millisecond), slow.Message)
}

func TestReleaseWaitAllJudgesTheSlowestToo(t *testing.T) {
	t.Parallel()
	run, _, _ := runCrashAndSlow(t, "--wait-all")
	run.mustEnd(t, 1, report.VerdictFailed)
	if w := run.workload(t, "deployment/crash"); w.Verdict != report.VerdictFailed {
		t.Errorf("deployment/crash %s, want failed", w.Verdict)
	}
	if w := run.workload(t, "deployment/slow"); w.Verdict != report.VerdictHealthy {
		t.Errorf("deployment/slow %s %q, want healthy: --wait-all judges every workload to the end", w.Verdict, w.Message)
	}
	t.Logf("with --wait-all the run took %s", run.Duration.Round(time.Millisecond))
}

// annotate sets the gate's per-workload annotations on a Deployment before it is applied.
func annotate(d *appsv1.Deployment, kv ...string) *appsv1.Deployment {
	if d.Annotations == nil {
		d.Annotations = map[string]string{}
	}
	for i := 0; i+1 < len(kv); i += 2 {
		d.Annotations[kv[i]] = kv[i+1]
	}
	return d
}

func TestReleaseAnnotationCrashToleranceZero(t *testing.T) {
	t.Parallel()
	c, ns := framework.Client(t), framework.Namespace(t)
	framework.GateBinary(t)
	// It crashes 5 s after each start, so the gate is watching before the first crash.
	framework.Apply(t, c, annotate(framework.Deployment(ns, "api", "--delay", "5s", "--exit-code", "1"), "rollout-gate.io/crash-tolerance", "0"))

	run := runGate(t, "-n", ns, "--workload", "deployment/api") // the run's crash-tolerance is 1
	w := run.workload(t, "deployment/api")
	if run.Exit != 1 || w.Verdict != report.VerdictFailed {
		t.Fatalf("exit %d, deployment/api %s, want 1 failed\n%s", run.Exit, w.Verdict, run.Stdout)
	}
	if !strings.Contains(w.Message, "crashed 1 times") {
		t.Errorf("message %q, want the verdict at the first crash", w.Message)
	}
	t.Logf("crash-tolerance 0: failed after %s: %s", run.Duration.Round(time.Millisecond), w.Message)
}

// TestReleaseAnnotationIgnore is issue 20's attack: rollout-gate.io/ignore on a broken
// Deployment must not turn the gate into a silent pass. By default the annotation is refused and
// the Deployment judged; when the CI owner allows it, the run judged nothing and says so (exit 3).
func TestReleaseAnnotationIgnore(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		args     []string
		wantExit int
		want     report.Verdict // of the run
		wantAPI  report.Verdict
		stderr   string
	}{
		{name: "refused by default", wantExit: 1, want: report.VerdictFailed, wantAPI: report.VerdictFailed,
			stderr: "deployment/api: annotation rollout-gate.io/ignore=true not applied: it would loosen"},
		{name: "allowed: nothing was judged", args: []string{"--workload-annotations", "all"}, wantExit: 3, want: report.VerdictError,
			wantAPI: report.VerdictSkipped, stderr: "nothing was judged"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, ns := framework.Client(t), framework.Namespace(t)
			framework.GateBinary(t)
			framework.Apply(t, c, annotate(framework.Deployment(ns, "api", "--exit-code", "1"), "rollout-gate.io/ignore", "true"))

			run := runGate(t, append([]string{"-n", ns, "--workload", "deployment/api"}, tt.args...)...)
			run.mustEnd(t, tt.wantExit, tt.want)
			w := run.workload(t, "deployment/api")
			if w.Verdict != tt.wantAPI || len(w.Overrides) != 1 || w.Overrides[0].Annotation != "rollout-gate.io/ignore" ||
				w.Overrides[0].Applied != (tt.wantAPI == report.VerdictSkipped) {
				t.Errorf("deployment/api %s with overrides %+v, want %s with the ignore recorded", w.Verdict, w.Overrides, tt.wantAPI)
			}
			if !strings.Contains(run.Stderr, tt.stderr) {
				t.Errorf("stderr lacks %q:\n%s", tt.stderr, run.Stderr)
			}
		})
	}
}

// TestReleaseAnnotationLoosening: the CI asks for crash-tolerance 0 and a 30 s soak; the workload's
// own annotations ask for any number of crashes and no soak. By default the run's settings hold
// and the crash fails it; when allowed, the looser settings are applied and named in the headline.
func TestReleaseAnnotationLoosening(t *testing.T) {
	t.Parallel()
	t.Run("refused by default", func(t *testing.T) {
		t.Parallel()
		c, ns := framework.Client(t), framework.Namespace(t)
		framework.GateBinary(t)
		framework.Apply(t, c, annotate(framework.Deployment(ns, "api", "--delay", "5s", "--exit-code", "1"),
			"rollout-gate.io/crash-tolerance", "2147483647", "rollout-gate.io/soak", "0s"))
		run := runGate(t, "-n", ns, "--workload", "deployment/api", "--crash-tolerance", "0", "--soak", "30s")
		run.mustEnd(t, 1, report.VerdictFailed, "the run's crash-tolerance 0 holds")
		w := run.workload(t, "deployment/api")
		for _, o := range w.Overrides {
			if o.Applied || !o.Loosens {
				t.Errorf("override %+v, want refused as loosening", o)
			}
		}
		if len(w.Overrides) != 2 || !strings.Contains(run.Stderr, "rollout-gate.io/crash-tolerance=2147483647 not applied") {
			t.Errorf("overrides %+v; stderr does not show the refused crash-tolerance:\n%s", w.Overrides, run.Stderr)
		}
	})
	t.Run("allowed and shown", func(t *testing.T) {
		t.Parallel()
		c, ns := framework.Client(t), framework.Namespace(t)
		framework.Apply(t, c, framework.Ready(annotate(framework.Deployment(ns, "web"), "rollout-gate.io/soak", "0s")))
		run := runGate(t, "-n", ns, "--workload", "deployment/web", "--soak", "30s", "--workload-annotations", "all")
		run.mustEnd(t, 0, report.VerdictHealthy)
		if h := run.Report.Headline(); !strings.Contains(h, "deployment/web was checked with its own looser rollout-gate.io/soak=0s") {
			t.Errorf("headline %q does not name the loosened workload", h)
		}
		if !strings.Contains(run.Stdout, "looser rollout-gate.io/soak=0s") {
			t.Errorf("the text report does not show the loosening:\n%s", run.Stdout)
		}
	})
}

func TestReleaseAnnotationRollbackFalse(t *testing.T) {
	t.Parallel()
	c, ns := framework.Client(t), framework.Namespace(t)
	framework.Apply(t, c, framework.Deployment(ns, "api"))
	framework.WaitForDeploymentAvailable(t, c, ns, "api", 2*time.Minute)
	broken := annotate(framework.Deployment(ns, "api", "--print-stderr", "FATAL: v2", "--exit-code", "1"), "rollout-gate.io/rollback", "false")
	framework.Apply(t, c, broken)

	run := runGate(t, rollbackArgs(ns, "deployment/api")...)
	w := run.workload(t, "deployment/api")
	if run.Exit != 1 || w.Verdict != report.VerdictFailed {
		t.Fatalf("exit %d, deployment/api %s, want 1 failed\n%s", run.Exit, w.Verdict, run.Stdout)
	}
	if w.Rollback == nil || w.Rollback.Status != report.RollbackSkipped || w.Rollback.Undone || run.Report.RolledBack ||
		!strings.Contains(w.Rollback.Message, "rollout-gate.io/rollback") {
		t.Fatalf("rollback %+v (report.rolledBack %v), want skipped by the annotation, nothing undone\n%s", w.Rollback, run.Report.RolledBack, run.raw)
	}
	if !strings.Contains(run.Stdout, "not rolled back") {
		t.Errorf("the text report does not say it was not rolled back:\n%s", run.Stdout)
	}
	got, err := c.AppsV1().Deployments(ns).Get(context.Background(), "api", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if args := strings.Join(got.Spec.Template.Spec.Containers[0].Args, " "); !strings.Contains(args, "FATAL: v2") {
		t.Errorf("the template's args are %q after the run, want the broken v2 left in place", args)
	}
}

func TestReleaseAnnotationTimeout(t *testing.T) {
	t.Parallel()
	c, ns := framework.Client(t), framework.Namespace(t)
	framework.Apply(t, c, annotate(slowStart(ns, "slow", 120*time.Second), "rollout-gate.io/timeout", "20s"))

	run := runGate(t, "-n", ns, "--workload", "deployment/slow", "--timeout", "5m")
	w := run.workload(t, "deployment/slow")
	if run.Exit != 1 || w.Verdict != report.VerdictTimeout {
		t.Fatalf("exit %d, deployment/slow %s, want 1 timeout\n%s", run.Exit, w.Verdict, run.Stdout)
	}
	if !strings.Contains(w.Message, "rollout-gate.io/timeout, is 20s") {
		t.Errorf("message %q does not say the workload's own timeout ended it", w.Message)
	}
	t.Logf("own timeout 20s (run's 5m): timed out after %s", run.Duration.Round(time.Millisecond))
}

func TestReleaseAnnotationSoak(t *testing.T) {
	t.Parallel()
	c, ns := framework.Client(t), framework.Namespace(t)
	d := framework.Ready(annotate(framework.Deployment(ns, "web"), "rollout-gate.io/soak", "30s"))
	framework.Apply(t, c, d)

	run := runGate(t, "-n", ns, "--workload", "deployment/web", "--soak", "0s")
	if run.Exit != 0 || run.workload(t, "deployment/web").Verdict != report.VerdictHealthy {
		t.Fatalf("exit %d, want 0 healthy\n%s", run.Exit, run.Stdout)
	}
	pods, err := c.CoreV1().Pods(ns).List(context.Background(), metav1.ListOptions{LabelSelector: framework.Selector("web")})
	if err != nil || len(pods.Items) != 1 {
		t.Fatalf("list pods: %v (%d pods)", err, len(pods.Items))
	}
	var readyAt time.Time
	for _, cond := range pods.Items[0].Status.Conditions {
		if cond.Type == "Ready" && cond.Status == "True" {
			readyAt = cond.LastTransitionTime.Time // whole seconds, never later than the real moment
		}
	}
	if readyAt.IsZero() {
		t.Fatalf("pod %s is not ready after a healthy verdict", pods.Items[0].Name)
	}
	held := run.Report.FinishedAt.Sub(readyAt)
	if held < 30*time.Second {
		t.Errorf("the verdict came %s after the pod was ready, want at least the annotated 30 s soak", held)
	}
	t.Logf("soak 30s: verdict %s after the pod turned ready (run %s)", held.Round(time.Millisecond), run.Duration.Round(time.Millisecond))
}

func TestReleaseAnnotationBadValue(t *testing.T) {
	t.Parallel()
	c, ns := framework.Client(t), framework.Namespace(t)
	framework.Apply(t, c, annotate(framework.Deployment(ns, "api"), "rollout-gate.io/crash-tolerance", "two"))

	run := runGate(t, "-n", ns, "--workload", "deployment/api")
	if run.Exit != 2 || run.Report.Verdict != report.VerdictError {
		t.Fatalf("exit %d verdict %s, want 2 error (invalid input)\n%s", run.Exit, run.Report.Verdict, run.Stderr)
	}
	for _, want := range []string{"deployment/api in namespace " + ns, "annotation rollout-gate.io/crash-tolerance", `"two"`, "kubectl annotate"} {
		if !strings.Contains(run.Stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, run.Stderr)
		}
	}
}
