//go:build e2e

package e2e

import (
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/rollout-gate/rollout-gate/e2e/framework"
	"github.com/rollout-gate/rollout-gate/internal/report"
)

// Issue 24: progress, not the clock. A StatefulSet of 4 pods rolls out one pod at a time; its v2
// pods each take readyIn to turn Ready (an honest readiness initialDelaySeconds: no probe fails).

// slowStatefulSet is StatefulSet db at release v, 4 pods created at once (Parallel), each Ready
// readyIn after its start. Its template differs by v, so applying v2 over v1 rolls it out.
func slowStatefulSet(ns string, v int, readyIn time.Duration) *appsv1.StatefulSet {
	s := framework.StatefulSet(ns, "db", "--print", "release "+map[int]string{1: "v1", 2: "v2"}[v])
	s.Spec.Replicas = ptr.To[int32](4)
	s.Spec.PodManagementPolicy = appsv1.ParallelPodManagement
	c := &s.Spec.Template.Spec.Containers[0]
	c.ReadinessProbe = framework.HTTPProbe("/ready")
	c.ReadinessProbe.InitialDelaySeconds = int32(readyIn / time.Second)
	return s
}

// v1ThenV2 brings the v1 StatefulSet up, then applies v2 whose pods are Ready readyIn after start.
func v1ThenV2(t *testing.T, readyIn time.Duration) (ns string) {
	t.Helper()
	c, ns := framework.Client(t), framework.Namespace(t)
	framework.Apply(t, c, slowStatefulSet(ns, 1, 0))
	framework.WaitForStatefulSetReady(t, c, ns, "db", 3*time.Minute)
	framework.Apply(t, c, slowStatefulSet(ns, 2, readyIn))
	return ns
}

// TestSlowStatefulSetStillProgressing: stopped by --timeout 1m while pods keep turning Ready
// 40 s apart, the StatefulSet is a timeout that says it was still progressing, not a failure, and
// --rollback leaves it to finish.
func TestSlowStatefulSetStillProgressing(t *testing.T) {
	t.Parallel()
	ns := v1ThenV2(t, 40*time.Second)
	run := runGate(t, "-n", ns, "--workload", "statefulset/db", "--timeout", "1m", "--progress-timeout", "60s",
		"--rollback", "--rollback-timeout", "3m", "-o", "json")
	run.mustEnd(t, 1, report.VerdictTimeout, "a rollout stopped by --timeout is a timeout")
	w := run.workload(t, "statefulset/db")
	if w.Verdict != report.VerdictTimeout || !strings.Contains(w.Message, "still progressing") {
		t.Fatalf("verdict %s (%s: %s), want timeout saying still progressing", w.Verdict, w.Reason, w.Message)
	}
	if w.Rollback == nil || w.Rollback.Status != report.RollbackSkipped || w.Rollback.Undone || run.Report.RolledBack {
		t.Fatalf("rollback %+v, want skipped: a rollout still progressing is not rolled back without --rollback-on-timeout", w.Rollback)
	}
	if !strings.Contains(w.Rollback.Message, "--rollback-on-timeout") {
		t.Errorf("rollback message %q does not say how to roll such a workload back", w.Rollback.Message)
	}
	live, err := framework.Client(t).AppsV1().StatefulSets(ns).Get(t.Context(), "db", metav1.GetOptions{})
	if err != nil {
		t.Fatalf("get statefulset: %v", err)
	}
	if args := strings.Join(live.Spec.Template.Spec.Containers[0].Args, " "); !strings.Contains(args, "release v2") {
		t.Errorf("the statefulset's template runs %q, want v2 left in place", args)
	}
}

// TestStuckStatefulSetFailsForNoProgress: a v2 pod that never turns Ready (and whose probe never
// fails, so no other rule fires) fails once nothing progressed for --progress-timeout, long before
// --timeout, and --rollback rolls it back.
func TestStuckStatefulSetFailsForNoProgress(t *testing.T) {
	t.Parallel()
	ns := v1ThenV2(t, time.Hour)
	run := runGate(t, "-n", ns, "--workload", "statefulset/db", "--timeout", "3m", "--progress-timeout", "20s",
		"--rollback", "--rollback-timeout", "3m", "-o", "json")
	run.mustEnd(t, 1, report.VerdictFailed, "a rollout that stopped progressing fails")
	w := run.workload(t, "statefulset/db")
	if w.Reason != "NoProgress" || !strings.Contains(w.Message, "no progress for") {
		t.Fatalf("reason %q (%s), want NoProgress", w.Reason, w.Message)
	}
	if run.Duration > 2*time.Minute {
		t.Errorf("the verdict took %s: the progress timeout (20 s) should end it, not --timeout", run.Duration.Round(time.Second))
	}
	if w.Rollback == nil || w.Rollback.Status != report.RollbackRolledBack {
		t.Fatalf("rollback %+v, want rolled back", w.Rollback)
	}
}
