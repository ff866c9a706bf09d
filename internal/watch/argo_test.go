package watch

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/rollout-gate/rollout-gate/internal/report"
)

// argoRollout is an Argo Rollout with the status its controller writes.
func argoRollout(t *testing.T, status string) *unstructured.Unstructured {
	t.Helper()
	js, err := yaml.YAMLToJSON([]byte(`apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: api, namespace: prod, generation: 2}
spec:
  replicas: 1
  selector: {matchLabels: {app: api}}
  template: {metadata: {labels: {app: api}}, spec: {containers: [{name: app, image: app}]}}
  strategy: {canary: {steps: [{setWeight: 50}, {pause: {}}]}}
` + status))
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON(js); err != nil {
		t.Fatal(err)
	}
	return u
}

// An Argo Rollout is judged like a Deployment: by its new pods (a crash loop fails it), by its
// controller's own conclusion (Degraded fails it) and by its phase (Healthy completes it); a pause
// step is a wait, never a lack of progress.
func TestEvaluateArgoRollout(t *testing.T) {
	t.Parallel()
	policy := Policy{CrashTolerance: 1, PendingGrace: 30 * time.Second, Soak: 10 * time.Second, ProgressTimeout: 2 * time.Minute}
	crashing := pod("api-bbb-1", container(corev1.ContainerStatus{Name: "app", RestartCount: 2,
		State: waiting("CrashLoopBackOff", "back-off 20s"), LastTerminationState: terminated(1, "Error")}))
	readyPod := pod("api-bbb-1", ready, container(corev1.ContainerStatus{Name: "app", Ready: true, State: running}))
	const healthy = `status: {observedGeneration: "2", phase: Healthy, currentPodHash: bbb, stableRS: bbb, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1}`
	const paused = `status: {observedGeneration: "2", phase: Paused, message: CanaryPauseStep, currentPodHash: bbb, stableRS: aaa, currentStepIndex: 1,
  controllerPause: true, pauseConditions: [{reason: CanaryPauseStep, startTime: "2026-11-25T12:00:00Z"}], replicas: 2, updatedReplicas: 1, readyReplicas: 2, availableReplicas: 2}`
	tests := []struct {
		name       string
		status     string
		pods       []*corev1.Pod
		completed  time.Time
		progressAt time.Time
		now        time.Time
		verdict    report.Verdict
		reason     string
		progress   string
	}{
		{name: "crash loop of the new revision", status: `status: {observedGeneration: "2", phase: Progressing, currentPodHash: bbb, stableRS: aaa}`,
			pods: []*corev1.Pod{crashing}, now: t0.Add(5 * time.Second), verdict: report.VerdictFailed, reason: "CrashLoopBackOff"},
		{name: "healthy, soak not over", status: healthy, pods: []*corev1.Pod{readyPod}, completed: t0, now: t0.Add(5 * time.Second), progress: "soaking until"},
		{name: "healthy after the soak", status: healthy, pods: []*corev1.Pod{readyPod}, completed: t0, now: t0.Add(11 * time.Second),
			verdict: report.VerdictHealthy, reason: "Complete"},
		{name: "paused long past the progress timeout", status: paused, pods: []*corev1.Pod{readyPod}, progressAt: t0, now: t0.Add(time.Hour),
			progress: "waiting on a pause: canary step 2 of 2 (pause with no duration: until promoted; CanaryPauseStep)"},
		{name: "a crash while paused still fails", status: paused, pods: []*corev1.Pod{crashing}, progressAt: t0, now: t0.Add(5 * time.Second),
			verdict: report.VerdictFailed, reason: "CrashLoopBackOff"},
		{name: "progressing without progress", status: `status: {observedGeneration: "2", phase: Progressing, currentPodHash: bbb, stableRS: aaa, replicas: 1}`,
			pods: []*corev1.Pod{readyPod}, progressAt: t0, now: t0.Add(3 * time.Minute), verdict: report.VerdictFailed, reason: "NoProgress"},
		{name: "aborted", status: `status: {observedGeneration: "2", phase: Degraded, message: "RolloutAborted: Rollout aborted update to revision 2",
  conditions: [{type: Progressing, status: "False", reason: RolloutAborted}]}`, pods: []*corev1.Pod{readyPod}, now: t0,
			verdict: report.VerdictFailed, reason: "RolloutAborted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := Snapshot{Object: argoRollout(t, tt.status), Pods: tt.pods, CompletedAt: tt.completed, ProgressAt: tt.progressAt}
			j := Evaluate(s, policy, tt.now)
			if j.Verdict != tt.verdict || (tt.reason != "" && j.Reason != tt.reason) {
				t.Fatalf("verdict %q reason %q (%s), want %q %q", j.Verdict, j.Reason, j.Message, tt.verdict, tt.reason)
			}
			if !strings.Contains(j.Progress, tt.progress) {
				t.Errorf("progress %q, want it to hold %q", j.Progress, tt.progress)
			}
		})
	}
}
