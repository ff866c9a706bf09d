package diagnose

import (
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rollout-gate/rollout-gate/internal/report"
)

// pastDeadline makes the workload a Job that ran 35 s against a 30 s activeDeadlineSeconds, its
// pod's container still running when the controller stopped it.
func pastDeadline(ev *evidence) {
	deadline := int64(30)
	ev.Kind, ev.Name, ev.Reason = "Job", "migrate", "DeadlineExceeded"
	ev.Job = &batchv1.Job{
		ObjectMeta: metav1.ObjectMeta{Name: "migrate", Namespace: ev.Namespace},
		Spec:       batchv1.JobSpec{ActiveDeadlineSeconds: &deadline},
		Status: batchv1.JobStatus{
			StartTime: &metav1.Time{Time: fixtureNow.Add(-40 * time.Second)},
			Conditions: []batchv1.JobCondition{{Type: batchv1.JobFailed, Status: corev1.ConditionTrue, Reason: "DeadlineExceeded",
				Message: "Job was active longer than specified deadline", LastTransitionTime: metav1.NewTime(fixtureNow.Add(-5 * time.Second))}},
		},
	}
	cs := &ev.Pods[0].Status.ContainerStatuses[0]
	cs.RestartCount, cs.LastTerminationState = 0, corev1.ContainerState{}
	cs.State = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(fixtureNow.Add(-38 * time.Second))}}
	ev.Logs[logKey(ev.Pods[0].Name, cs.Name)] = logTail{Lines: []string{"migrating table orders: 41%"}}
}

func TestJobDeadline(t *testing.T) {
	t.Parallel()
	ev := rc("unknown", pastDeadline).gather(t)
	got := classify(ev)
	if len(got) == 0 || got[0].Cause != report.CauseJobDeadline {
		t.Fatalf("want cause %s first, got:\n%s", report.CauseJobDeadline, dump(got))
	}
	f := got[0]
	for _, want := range []string{"job/migrate ran for 35s", "activeDeadlineSeconds 30 (30s)"} {
		if !strings.Contains(f.Summary, want) {
			t.Errorf("summary %q lacks %q", f.Summary, want)
		}
	}
	for _, want := range []string{"Job condition Failed=True DeadlineExceeded: Job was active longer than specified deadline",
		"container api running for 38s; last log line: migrating table orders: 41%"} {
		if !containsSub(f.Evidence, want) {
			t.Errorf("no evidence line contains %q:\n  %s", want, strings.Join(f.Evidence, "\n  "))
		}
	}
	if !contains(f.Fix, "kubectl logs job/migrate -n production --all-containers --tail=50") {
		t.Errorf("fix lacks the Job's logs:\n  %s", strings.Join(f.Fix, "\n  "))
	}
}
