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

func TestReleaseFirstFailureEndsTheRun(t *testing.T) {
	t.Parallel()
	c, ns := framework.Client(t), framework.Namespace(t)
	framework.GateBinary(t) // built before the apply, so that the gate starts with the rollouts
	apply(t, c, slowStart(ns, "slow", 60*time.Second))
	apply(t, c, framework.Deployment(ns, "crash", "--print", "starting", "--exit-code", "1"))

	run := runGate(t, "-n", ns, "--workload", "deployment/crash", "--workload", "deployment/slow", "--soak", "3s")
	// Read at once: the slow Deployment cannot be available before its app listens (60 s).
	slowAvailable := available(t, c, ns, "slow")
	if run.Exit != 1 || run.Report.Verdict != report.VerdictFailed {
		t.Fatalf("exit %d verdict %s, want 1 failed\n%s", run.Exit, run.Report.Verdict, run.Stdout)
	}
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
	c, ns := framework.Client(t), framework.Namespace(t)
	framework.GateBinary(t) // built before the apply, so that the gate starts with the rollouts
	apply(t, c, slowStart(ns, "slow", 60*time.Second))
	apply(t, c, framework.Deployment(ns, "crash", "--print", "starting", "--exit-code", "1"))

	run := runGate(t, "-n", ns, "--workload", "deployment/crash", "--workload", "deployment/slow", "--soak", "3s", "--wait-all")
	if run.Exit != 1 || run.Report.Verdict != report.VerdictFailed {
		t.Fatalf("exit %d verdict %s, want 1 failed\n%s", run.Exit, run.Report.Verdict, run.Stdout)
	}
	if w := run.workload(t, "deployment/crash"); w.Verdict != report.VerdictFailed {
		t.Errorf("deployment/crash %s, want failed", w.Verdict)
	}
	if w := run.workload(t, "deployment/slow"); w.Verdict != report.VerdictHealthy {
		t.Errorf("deployment/slow %s %q, want healthy: --wait-all judges every workload to the end", w.Verdict, w.Message)
	}
	t.Logf("with --wait-all the run took %s", run.Duration.Round(time.Millisecond))
}
