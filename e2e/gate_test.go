//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/rollout-gate/rollout-gate/e2e/framework"
	"github.com/rollout-gate/rollout-gate/internal/report"
)

// Issue 3: the gate watches the rollouts and fails fast, with no false alarm.

func TestGateHealthyRolloutPasses(t *testing.T) {
	t.Parallel()
	c, ns := framework.Client(t), framework.Namespace(t)
	d := framework.Ready(framework.Deployment(ns, "web"))
	d.Spec.Replicas = ptr.To[int32](2)
	framework.Apply(t, c, d)

	run := runGate(t, "-n", ns, "--workload", "deployment/web") // default tolerance and soak
	run.mustEnd(t, 0, report.VerdictHealthy)
	if w := run.workload(t, "deployment/web"); w.Revision != "1" || len(w.Findings) != 0 {
		t.Errorf("revision %q findings %v, want revision 1 and no findings", w.Revision, w.Findings)
	}
}

func TestGateSlowStartWithStartupProbePasses(t *testing.T) {
	t.Parallel()
	c, ns := framework.Client(t), framework.Namespace(t)
	d := framework.Deployment(ns, "slow", "--startup-delay", "8s")
	ctr := &d.Spec.Template.Spec.Containers[0]
	ctr.StartupProbe = framework.HTTPProbe("/health")
	ctr.StartupProbe.FailureThreshold = 30
	ctr.LivenessProbe = framework.HTTPProbe("/health")
	ctr.ReadinessProbe = framework.HTTPProbe("/ready")
	framework.Apply(t, c, d)

	run := runGate(t, "-n", ns, "--workload", "deploy/slow", "--soak", "3s")
	if run.Exit != 0 {
		t.Fatalf("exit %d (%s), want 0: a slow start guarded by a startupProbe is no failure\n%s", run.Exit, run.Report.Verdict, run.Stdout)
	}
	if run.Duration < 8*time.Second {
		t.Errorf("healthy after %s, before the app could listen (8 s): the gate judged too early", run.Duration)
	}
}

func TestGateScaleUpPasses(t *testing.T) {
	t.Parallel()
	c, ns := framework.Client(t), framework.Namespace(t)
	d := framework.Ready(framework.Deployment(ns, "scale"))
	framework.Apply(t, c, d)
	framework.WaitForDeploymentAvailable(t, c, ns, "scale", 2*time.Minute)
	d.Spec.Replicas = ptr.To[int32](3)
	framework.Apply(t, c, d)

	run := runGate(t, "-n", ns, "--workload", "deploy/scale", "--soak", "2s")
	run.mustExit(t, 0, "a scale-up is healthy")
	got, err := c.AppsV1().Deployments(ns).Get(context.Background(), "scale", metav1.GetOptions{})
	if err != nil || got.Status.AvailableReplicas != 3 {
		t.Errorf("after a healthy verdict %v replicas are available (err %v), want 3", got.Status.AvailableReplicas, err)
	}
}

func TestGateCrashLoopFailsFast(t *testing.T) {
	t.Parallel()
	c, ns := framework.Client(t), framework.Namespace(t)
	framework.Apply(t, c, framework.Deployment(ns, "api", "--print", "starting", "--exit-code", "1"))

	run := runGate(t, "-n", ns, "--workload", "deployment/api")
	run.mustEnd(t, 1, report.VerdictFailed)
	w := run.workload(t, "deployment/api")
	if w.Reason != "CrashLoopBackOff" {
		t.Errorf("reason %q, want CrashLoopBackOff", w.Reason)
	}
	// The deployment's progress deadline is 600 s; the gate must answer within the first crashes.
	if run.Duration > 90*time.Second {
		t.Errorf("verdict after %s: not fast", run.Duration)
	}
	t.Logf("crash loop verdict after %s", run.Duration.Round(time.Millisecond))
}

func TestGateNamesOnlyTheFailingWorkload(t *testing.T) {
	t.Parallel()
	c, ns := framework.Client(t), framework.Namespace(t)
	good := framework.Ready(framework.Deployment(ns, "good"))
	framework.Apply(t, c, good)
	framework.Apply(t, c, framework.Deployment(ns, "bad", "--exit-code", "3"))
	manifest := writeManifest(t, fmt.Sprintf(`apiVersion: v1
kind: Service
metadata: {name: good, namespace: %[1]s}
spec: {ports: [{port: 80}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: good, namespace: %[1]s}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: bad, namespace: %[1]s}
`, ns))

	// --wait-all: judged to the end, good is healthy even when bad fails first.
	run := runGate(t, "-f", manifest, "--soak", "2s", "--wait-all")
	run.mustExit(t, 1)
	if v := run.workload(t, "deployment/good").Verdict; v != report.VerdictHealthy {
		t.Errorf("deployment/good verdict %s, want healthy", v)
	}
	bad := run.workload(t, "deployment/bad")
	if bad.Verdict != report.VerdictFailed || bad.Source == nil || bad.Source.Line != 10 {
		t.Errorf("deployment/bad verdict %s source %+v, want failed at manifest line 10", bad.Verdict, bad.Source)
	}
	if v := run.workload(t, "service/good").Verdict; v != report.VerdictSkipped {
		t.Errorf("service/good verdict %s, want skipped", v)
	}
	if !strings.Contains(run.Stdout, "deployment/bad") || strings.Contains(firstLine(run.Stdout), "deployment/good") {
		t.Errorf("the headline must name only the failing workload:\n%s", firstLine(run.Stdout))
	}
}

func TestGateReadinessOnlyFailureTimesOut(t *testing.T) {
	t.Parallel()
	c, ns := framework.Client(t), framework.Namespace(t)
	d := framework.Ready(framework.Deployment(ns, "unready", "--ready-after", "1h"))
	framework.Apply(t, c, d)

	run := runGate(t, "-n", ns, "--workload", "deploy/unready", "--timeout", "25s")
	run.mustEnd(t, 1, report.VerdictTimeout)
	w := run.workload(t, "deployment/unready")
	if w.Reason == "CrashLoopBackOff" || strings.Contains(w.Message, "crash") {
		t.Errorf("a readiness-only failure was called a crash: %s %s", w.Reason, w.Message)
	}
	if !strings.Contains(w.Message, "not ready") {
		t.Errorf("the timeout message %q does not say the pods are not ready", w.Message)
	}
}

func TestGateStatefulSetAndDaemonSetCrashLoopsFail(t *testing.T) {
	t.Parallel()
	c, ns := framework.Client(t), framework.Namespace(t)
	framework.Apply(t, c, framework.StatefulSet(ns, "db", "--exit-code", "1"))
	framework.Apply(t, c, framework.DaemonSet(ns, "agent", "--exit-code", "1"))

	// --wait-all: both are judged (and diagnosed), not only the first to fail.
	run := runGate(t, "-n", ns, "--workload", "sts/db", "--workload", "ds/agent", "--wait-all")
	run.mustExit(t, 1)
	for _, ref := range []string{"statefulset/db", "daemonset/agent"} {
		if w := run.workload(t, ref); w.Verdict != report.VerdictFailed || w.Reason != "CrashLoopBackOff" {
			t.Errorf("%s: %s %s, want failed CrashLoopBackOff", ref, w.Verdict, w.Reason)
		}
	}
}

func TestGateInputErrors(t *testing.T) {
	t.Parallel()
	ns := framework.Namespace(t)
	tests := []struct {
		name     string
		args     []string
		exit     int
		contains string
	}{
		{"nonexistent workload", []string{"-n", ns, "--workload", "deploy/ghost"}, 3, "deployment/ghost not found in namespace " + ns},
		{"bad timeout", []string{"-n", ns, "--workload", "deploy/x", "--timeout", "soon"}, 2, "--timeout"},
		{"unknown kind", []string{"-n", ns, "--workload", "frobnicator/x"}, 2, `the API server serves no type "frobnicator"`},
		{"cronjob only", []string{"-n", ns, "--workload", "cronjob/x"}, 2, "a CronJob only starts Jobs later"},
		{"missing manifest", []string{"-f", "/nonexistent/app.yaml"}, 2, "-f"},
		{"nothing to watch", []string{"-n", ns}, 2, "nothing to watch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := runGate(t, tt.args...)
			if run.Exit != tt.exit {
				t.Errorf("exit %d, want %d", run.Exit, tt.exit)
			}
			if !strings.Contains(run.Stderr, tt.contains) {
				t.Errorf("stderr %q does not say %q", run.Stderr, tt.contains)
			}
		})
	}
}

func TestGateUnreachableClusterSaysSo(t *testing.T) {
	t.Parallel()
	kc := writeManifest(t, `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: x}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
`)
	run := runGate(t, "--kubeconfig", kc, "--workload", "deploy/x")
	if run.Exit != 3 || !strings.Contains(run.Stderr, "cannot reach the Kubernetes API server") {
		t.Errorf("exit %d stderr %q, want 3 and a plain 'cannot reach'", run.Exit, run.Stderr)
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
