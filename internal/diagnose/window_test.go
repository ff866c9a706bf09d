package diagnose

import (
	"regexp"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"

	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/watch"
	"github.com/rollout-gate/rollout-gate/internal/workload/podstate"
)

// reWindow reads the window a verdict or a finding states: "window of ... = 31s".
var reWindow = regexp.MustCompile(`window of [^=]*= ([0-9hms.]+)`)

// TestVerdictAndFindingStateOneWindow drives the watch and the diagnosis with the same pod, probe
// and kubelet events: the window the failed verdict states and the one its finding states are
// the same number, and it is podstate's.
func TestVerdictAndFindingStateOneWindow(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	exec := corev1.ProbeHandler{Exec: &corev1.ExecAction{Command: []string{"/bin/healthcheck"}}}
	httpGet := corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: "/ready"}}
	tests := []struct {
		name      string
		kind      podstate.ProbeKind
		probe     *corev1.Probe
		message   string // the kubelet's Unhealthy message
		ready     bool
		reason    string // the watch's verdict
		cause     report.Cause
		fromStart bool // the window counts the initial delay (readiness)
	}{
		{"a liveness probe that errors, the API's defaults", podstate.Liveness, &corev1.Probe{ProbeHandler: exec},
			"Liveness probe errored and resulted in unknown state: exec: not found", true, "LivenessProbeErrored", report.CauseLivenessProbe, false},
		{"a liveness probe that errors, its own timing", podstate.Liveness, &corev1.Probe{ProbeHandler: exec, InitialDelaySeconds: 4, PeriodSeconds: 2, TimeoutSeconds: 1, FailureThreshold: 5},
			"Liveness probe errored and resulted in unknown state: exec: not found", true, "LivenessProbeErrored", report.CauseLivenessProbe, false},
		{"a liveness probe slower than its period", podstate.Liveness, &corev1.Probe{ProbeHandler: exec, PeriodSeconds: 1, TimeoutSeconds: 3, FailureThreshold: 4},
			"Liveness probe errored and resulted in unknown state: exec: not found", true, "LivenessProbeErrored", report.CauseLivenessProbe, false},
		{"a readiness stall", podstate.Readiness, &corev1.Probe{ProbeHandler: httpGet, InitialDelaySeconds: 5, PeriodSeconds: 3, FailureThreshold: 3},
			"Readiness probe failed: HTTP probe failed with statuscode: 503", false, podstate.VerdictReadinessProbeFailing, report.CauseReadinessProbe, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c := corev1.Container{Name: "api", Image: "shop:v2"}
			switch tt.kind {
			case podstate.Liveness:
				c.LivenessProbe = tt.probe
			case podstate.Readiness:
				c.ReadinessProbe = tt.probe
			}
			// Long past any window, with a probe failing on every run until now.
			now := t0.Add(10 * time.Minute)
			status := corev1.ConditionTrue
			if !tt.ready {
				status = corev1.ConditionFalse
			}
			pod := &corev1.Pod{
				ObjectMeta: metav1.ObjectMeta{Name: "api-1", Namespace: "shop", UID: types.UID("uid-1"), Labels: map[string]string{"app": "api"}, CreationTimestamp: metav1.NewTime(t0)},
				Spec:       corev1.PodSpec{NodeName: "n1", Containers: []corev1.Container{c}},
				Status: corev1.PodStatus{Phase: corev1.PodRunning,
					Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: status, LastTransitionTime: metav1.NewTime(t0)}},
					ContainerStatuses: []corev1.ContainerStatus{{Name: "api", Ready: tt.ready, State: corev1.ContainerState{
						Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(t0)}}}}},
			}
			event := &corev1.Event{
				ObjectMeta:     metav1.ObjectMeta{Name: "api-1.unhealthy", Namespace: "shop"},
				InvolvedObject: corev1.ObjectReference{Kind: "Pod", Name: "api-1", Namespace: "shop", UID: pod.UID, FieldPath: "spec.containers{api}"},
				Type:           corev1.EventTypeWarning, Reason: podstate.EventUnhealthy, Message: tt.message, Count: 590,
				FirstTimestamp: metav1.NewTime(t0.Add(time.Second)), LastTimestamp: metav1.NewTime(now.Add(-time.Second)),
			}
			one := int32(1)
			dep := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "shop", Generation: 1},
				Spec:   appsv1.DeploymentSpec{Replicas: &one, Selector: &metav1.LabelSelector{MatchLabels: map[string]string{"app": "api"}}},
				Status: appsv1.DeploymentStatus{ObservedGeneration: 1, Replicas: 1, UpdatedReplicas: 1, ReadyReplicas: 1, AvailableReplicas: 1}}
			if !tt.ready {
				dep.Status.ReadyReplicas, dep.Status.AvailableReplicas = 0, 0
			}

			j := watch.Evaluate(watch.Snapshot{Object: dep, Pods: []*corev1.Pod{pod}, Events: []*corev1.Event{event}, CompletedAt: t0},
				watch.DefaultPolicy(), now)
			if j.Verdict != report.VerdictFailed || j.Reason != tt.reason {
				t.Fatalf("watch: %s %s (%s), want failed %s", j.Verdict, j.Reason, j.Message, tt.reason)
			}

			ev := &evidence{Now: now, Since: t0, Verdict: j.Verdict, Reason: j.Reason, Message: j.Message,
				Kind: "Deployment", Namespace: "shop", Name: "api", Pods: []corev1.Pod{*pod}, TotalPods: 1, Events: []corev1.Event{*event}}
			found := classify(ev)
			if len(found) == 0 || found[0].Cause != tt.cause {
				t.Fatalf("diagnosis: %s, want %s", dump(found), tt.cause)
			}

			timing := podstate.WithDefaults(tt.probe)
			want := timing.KillWindow()
			if tt.fromStart {
				want = timing.FromStart()
			}
			verdict, finding := stated(t, "verdict", j.Message), stated(t, "finding", found[0].Detail)
			if verdict != finding || verdict != want.String() {
				t.Errorf("the verdict states a window of %s, its finding %s; podstate's is %s\nverdict: %s\nfinding: %s",
					verdict, finding, want, j.Message, found[0].Detail)
			}
		})
	}
}

// stated is the window a message states.
func stated(t *testing.T, what, msg string) string {
	t.Helper()
	m := reWindow.FindStringSubmatch(msg)
	if m == nil {
		t.Fatalf("the %s states no window: %s", what, msg)
	}
	return m[1]
}
