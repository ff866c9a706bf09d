package watch

import (
	"strings"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"

	"github.com/rollout-gate/rollout-gate/internal/report"
)

// step is one observation of a workload at a moment of the fake clock.
type step struct {
	at   time.Duration // after t0
	obj  runtime.Object
	pods []*corev1.Pod
}

func readyPod(uid string) *corev1.Pod {
	started := true
	return pod("db-"+uid, func(p *corev1.Pod) { p.UID = types.UID(uid) }, readyAt(t0),
		container(corev1.ContainerStatus{Name: "app", Ready: true, Started: &started, State: runningSince(t0)}))
}

func startingPod(uid string) *corev1.Pod {
	return pod("db-"+uid, func(p *corev1.Pod) { p.UID = types.UID(uid) }, notReadyAt(t0),
		container(corev1.ContainerStatus{Name: "app", State: runningSince(t0)}))
}

func jobFinished(succeeded int32) *batchv1.Job {
	return &batchv1.Job{Status: batchv1.JobStatus{Succeeded: succeeded}}
}

// TestProgressFollowsRisingCounts walks the fake clock through observations: what counts as
// progress moves the progress clock, and only a pod turning Ready (or a ready or finished count
// rising) makes a workload "still progressing" when --timeout stops it.
func TestProgressFollowsRisingCounts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		steps     []step
		wantAt    time.Duration // the last progress, after t0
		wantStill bool          // at the last step, with a 60 s limit
	}{
		{name: "the first look is the baseline, not progress",
			steps:  []step{{0, deployment(4, 1, 0), []*corev1.Pod{startingPod("a")}}, {30 * time.Second, deployment(4, 1, 0), []*corev1.Pod{startingPod("a")}}},
			wantAt: 0},
		{name: "a new pod turning Ready is progress",
			steps: []step{{0, deployment(4, 1, 0), []*corev1.Pod{startingPod("a")}}, {40 * time.Second, deployment(4, 1, 0), []*corev1.Pod{readyPod("a")}},
				{70 * time.Second, deployment(4, 1, 0), []*corev1.Pod{readyPod("a")}}},
			wantAt: 40 * time.Second, wantStill: true},
		{name: "a rising updated count is progress, but not still progressing",
			steps:  []step{{0, deployment(4, 1, 0), nil}, {20 * time.Second, deployment(4, 2, 0), nil}},
			wantAt: 20 * time.Second},
		{name: "a rising ready count is both",
			steps:  []step{{0, deployment(4, 2, 1), nil}, {20 * time.Second, deployment(4, 2, 2), nil}},
			wantAt: 20 * time.Second, wantStill: true},
		{name: "a count falling and rising back to its high is not progress",
			steps:  []step{{0, deployment(4, 2, 2), nil}, {10 * time.Second, deployment(4, 2, 1), nil}, {20 * time.Second, deployment(4, 2, 2), nil}},
			wantAt: 0},
		{name: "Ready progress older than the limit is no longer progressing",
			steps:  []step{{0, deployment(4, 1, 0), []*corev1.Pod{startingPod("a")}}, {5 * time.Second, deployment(4, 1, 0), []*corev1.Pod{readyPod("a")}}, {70 * time.Second, deployment(4, 1, 0), []*corev1.Pod{readyPod("a")}}},
			wantAt: 5 * time.Second},
		{name: "a Job's finished pod is progress",
			steps:  []step{{0, jobFinished(0), nil}, {30 * time.Second, jobFinished(1), nil}},
			wantAt: 30 * time.Second, wantStill: true},
		{name: "a Job's running pod is at work",
			steps:  []step{{0, jobFinished(0), []*corev1.Pod{startingPod("a")}}, {100 * time.Second, jobFinished(0), []*corev1.Pod{startingPod("a")}}},
			wantAt: 100 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var pr progress
			for _, s := range tt.steps {
				pr.observe(s.obj, s.pods, t0.Add(s.at))
			}
			if want := t0.Add(tt.wantAt); !pr.at.Equal(want) {
				t.Errorf("last progress at t0+%s, want t0+%s", pr.at.Sub(t0), tt.wantAt)
			}
			last := tt.steps[len(tt.steps)-1]
			if still, _ := pr.stillProgressing(last.obj, Policy{ProgressTimeout: time.Minute}, t0.Add(last.at)); still != tt.wantStill {
				t.Errorf("still progressing = %v, want %v", still, tt.wantStill)
			}
		})
	}
}

// TestEvaluateNoProgress: an incomplete rollout fails once it made no progress for its limit, the
// Deployment's own progressDeadlineSeconds when shorter; a complete one never does.
func TestEvaluateNoProgress(t *testing.T) {
	t.Parallel()
	stuck := []*corev1.Pod{startingPod("a")}
	short := deployment(2, 1, 0)
	short.Spec.ProgressDeadlineSeconds = ptr(int32(30))
	tests := []struct {
		name        string
		obj         runtime.Object
		pods        []*corev1.Pod
		limit       time.Duration
		progressAt  time.Duration
		now         time.Duration
		wantFail    bool
		wantRecheck time.Duration
	}{
		{name: "within the limit: recheck at its end", obj: deployment(2, 1, 0), pods: stuck, limit: 2 * time.Minute, progressAt: 10 * time.Second,
			now: time.Minute, wantRecheck: 130 * time.Second},
		{name: "past the limit: fails", obj: deployment(2, 1, 0), pods: stuck, limit: 2 * time.Minute, progressAt: 10 * time.Second,
			now: 130 * time.Second, wantFail: true},
		{name: "the Deployment's shorter progressDeadlineSeconds", obj: short, pods: stuck, limit: 2 * time.Minute, progressAt: 10 * time.Second,
			now: 40 * time.Second, wantFail: true},
		{name: "0 turns the rule off", obj: deployment(2, 1, 0), pods: stuck, limit: 0, progressAt: 0, now: time.Hour},
		{name: "a complete rollout soaking is not stuck", obj: deployment(1, 1, 1), pods: []*corev1.Pod{readyPod("a")}, limit: 10 * time.Second,
			progressAt: 0, now: 5 * time.Second},
		{name: "a Job past the limit fails too", obj: jobFinished(0), pods: []*corev1.Pod{pod("m-1", func(p *corev1.Pod) { p.Status.Phase = corev1.PodPending })},
			limit: time.Minute, progressAt: 0, now: time.Minute, wantFail: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := DefaultPolicy()
			p.ProgressTimeout = tt.limit
			j := Evaluate(Snapshot{Object: tt.obj, Pods: tt.pods, ProgressAt: t0.Add(tt.progressAt), CompletedAt: t0}, p, t0.Add(tt.now))
			if failed := j.Verdict == report.VerdictFailed; failed != tt.wantFail {
				t.Fatalf("verdict %q (%s: %s), want failed %v", j.Verdict, j.Reason, j.Message, tt.wantFail)
			}
			if tt.wantFail && (j.Reason != "NoProgress" || !strings.Contains(j.Message, "no progress for")) {
				t.Errorf("reason %q message %q, want NoProgress saying for how long", j.Reason, j.Message)
			}
			if tt.wantRecheck > 0 && !j.RecheckAt.Equal(t0.Add(tt.wantRecheck)) {
				t.Errorf("recheck at t0+%s, want t0+%s", j.RecheckAt.Sub(t0), tt.wantRecheck)
			}
		})
	}
}
