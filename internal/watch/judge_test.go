package watch

import (
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/rollout-gate/rollout-gate/internal/report"
)

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func ptr[T any](v T) *T { return &v }

// deployment is a Deployment of replicas pods whose status says updated/available as given.
func deployment(replicas, updated, available int32, conds ...appsv1.DeploymentCondition) *appsv1.Deployment {
	return &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "api", Namespace: "prod", Generation: 2},
		Spec:       appsv1.DeploymentSpec{Replicas: ptr(replicas)},
		Status: appsv1.DeploymentStatus{ObservedGeneration: 2, Replicas: updated, UpdatedReplicas: updated,
			AvailableReplicas: available, ReadyReplicas: available, Conditions: conds},
	}
}

type podOpt func(*corev1.Pod)

func pod(name string, opts ...podOpt) *corev1.Pod {
	p := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, CreationTimestamp: metav1.NewTime(t0)},
		Status: corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{
			{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(t0)},
		}},
	}
	for _, o := range opts {
		o(p)
	}
	return p
}

func container(cs corev1.ContainerStatus) podOpt {
	return func(p *corev1.Pod) { p.Status.ContainerStatuses = append(p.Status.ContainerStatuses, cs) }
}

func initContainer(cs corev1.ContainerStatus) podOpt {
	return func(p *corev1.Pod) {
		p.Status.Phase = corev1.PodPending
		p.Status.InitContainerStatuses = append(p.Status.InitContainerStatuses, cs)
	}
}

var ready podOpt = func(p *corev1.Pod) {
	p.Status.Conditions = append(p.Status.Conditions, corev1.PodCondition{Type: corev1.PodReady, Status: corev1.ConditionTrue})
}

func waiting(reason, msg string) corev1.ContainerState {
	return corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: reason, Message: msg}}
}

func terminated(code int32, reason string) corev1.ContainerState {
	return corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: code, Reason: reason}}
}

func terminatedAt(code int32, reason string, at time.Time) corev1.ContainerState {
	st := terminated(code, reason)
	st.Terminated.FinishedAt = metav1.NewTime(at)
	return st
}

var running = corev1.ContainerState{Running: &corev1.ContainerStateRunning{StartedAt: metav1.NewTime(t0)}}

func TestEvaluate(t *testing.T) {
	t.Parallel()
	policy := Policy{CrashTolerance: 1, PendingGrace: 30 * time.Second, Soak: 10 * time.Second}
	tests := []struct {
		name         string
		obj          any
		pods         []*corev1.Pod
		completedAt  time.Time
		now          time.Time
		policy       *Policy
		wantVerdict  report.Verdict
		wantReason   string
		wantMsg      string // substring
		wantRecheck  time.Time
		wantProgress string // substring
	}{
		{
			name: "complete but soaking is still in progress", obj: deployment(2, 2, 2),
			pods: []*corev1.Pod{pod("api-1", ready, container(corev1.ContainerStatus{Name: "api", Ready: true, State: running}))},
			now:  t0.Add(5 * time.Second), wantRecheck: t0.Add(15 * time.Second), wantProgress: "2/2 updated, 2/2 available; complete, soaking",
		},
		{
			name: "complete and soaked is healthy", obj: deployment(2, 2, 2), completedAt: t0,
			now: t0.Add(10 * time.Second), wantVerdict: report.VerdictHealthy, wantReason: "Complete", wantMsg: "successfully rolled out",
		},
		{
			name: "a restart during the soak restarts the soak", obj: deployment(1, 1, 1), completedAt: t0,
			pods: []*corev1.Pod{pod("api-1", ready, container(corev1.ContainerStatus{Name: "api", RestartCount: 1, State: running,
				LastTerminationState: terminatedAt(0, "Completed", t0.Add(8*time.Second))}))},
			now: t0.Add(12 * time.Second), wantRecheck: t0.Add(18 * time.Second), wantProgress: "soaking until 12:00:18 (a container restarted)",
		},
		{
			name: "a restart before completion does not extend the soak", obj: deployment(1, 1, 1), completedAt: t0,
			pods: []*corev1.Pod{pod("api-1", ready, container(corev1.ContainerStatus{Name: "api", RestartCount: 1, State: running,
				LastTerminationState: terminatedAt(1, "Error", t0.Add(-5*time.Second))}))},
			now: t0.Add(10 * time.Second), wantVerdict: report.VerdictHealthy,
		},
		{
			name: "no soak is healthy at once", obj: deployment(1, 1, 1), policy: &Policy{CrashTolerance: 1},
			now: t0, wantVerdict: report.VerdictHealthy,
		},
		{
			name: "first crash is tolerated", obj: deployment(1, 1, 0),
			pods: []*corev1.Pod{pod("api-1", container(corev1.ContainerStatus{Name: "api", State: terminated(1, "Error")}))},
			now:  t0, wantProgress: "api-1 Terminated, restarts 0, last exit 1",
		},
		{
			name: "first crash in back-off is tolerated", obj: deployment(1, 1, 0),
			pods: []*corev1.Pod{pod("api-1", container(corev1.ContainerStatus{Name: "api", State: waiting("CrashLoopBackOff", "back-off 10s"),
				LastTerminationState: terminated(1, "Error")}))},
			now: t0,
		},
		{
			name: "second crash, before CrashLoopBackOff shows, fails", obj: deployment(1, 1, 0),
			pods: []*corev1.Pod{pod("api-1", container(corev1.ContainerStatus{Name: "api", RestartCount: 1, State: terminated(1, "Error"),
				LastTerminationState: terminated(1, "Error")}))},
			now: t0, wantVerdict: report.VerdictFailed, wantReason: "CrashLoopBackOff", wantMsg: "container api crashed 2 times (last exit 1, Error)",
		},
		{
			name: "crash loop back-off after the second crash fails", obj: deployment(3, 1, 0),
			pods: []*corev1.Pod{pod("api-1", container(corev1.ContainerStatus{Name: "api", RestartCount: 1, State: waiting("CrashLoopBackOff", ""),
				LastTerminationState: terminated(2, "Error")}))},
			now: t0, wantVerdict: report.VerdictFailed, wantReason: "CrashLoopBackOff", wantMsg: "pod api-1: container api crashed 2 times (last exit 2",
		},
		{
			name: "running again after one crash is tolerated", obj: deployment(1, 1, 0),
			pods: []*corev1.Pod{pod("api-1", container(corev1.ContainerStatus{Name: "api", RestartCount: 1, State: running,
				LastTerminationState: terminated(1, "Error")}))},
			now: t0,
		},
		{
			name: "zero tolerance fails on the first crash", obj: deployment(1, 1, 0), policy: &Policy{CrashTolerance: 0},
			pods: []*corev1.Pod{pod("api-1", container(corev1.ContainerStatus{Name: "api", State: terminated(137, "OOMKilled")}))},
			now:  t0, wantVerdict: report.VerdictFailed, wantReason: "OOMKilled", wantMsg: "last exit 137, OOMKilled",
		},
		{
			name: "OOMKilled twice is reported as OOMKilled", obj: deployment(1, 1, 0),
			pods: []*corev1.Pod{pod("api-1", container(corev1.ContainerStatus{Name: "api", RestartCount: 1, State: waiting("CrashLoopBackOff", ""),
				LastTerminationState: terminated(137, "OOMKilled")}))},
			now: t0, wantVerdict: report.VerdictFailed, wantReason: "OOMKilled",
		},
		{
			name: "a SIGKILL right after an OOM kill is the OOM killer's", obj: deployment(1, 1, 0),
			pods: []*corev1.Pod{pod("api-1", container(corev1.ContainerStatus{Name: "api", RestartCount: 1, State: terminated(137, "Error"),
				LastTerminationState: terminated(137, "OOMKilled")}))},
			now: t0, wantVerdict: report.VerdictFailed, wantReason: "OOMKilled",
		},
		{
			name: "exit 137 after a plain crash is no OOM kill", obj: deployment(1, 1, 0),
			pods: []*corev1.Pod{pod("api-1", container(corev1.ContainerStatus{Name: "api", RestartCount: 1, State: terminated(137, "Error"),
				LastTerminationState: terminated(1, "Error")}))},
			now: t0, wantVerdict: report.VerdictFailed, wantReason: "CrashLoopBackOff",
		},
		{
			name: "missing secret fails at once", obj: deployment(1, 1, 0),
			pods: []*corev1.Pod{pod("api-1", container(corev1.ContainerStatus{Name: "api",
				State: waiting("CreateContainerConfigError", `secret "db" not found`)}))},
			now: t0, wantVerdict: report.VerdictFailed, wantReason: "CreateContainerConfigError", wantMsg: `secret "db" not found`,
		},
		{
			name: "config error while the kubelet cache syncs is transient", obj: deployment(1, 1, 0),
			pods: []*corev1.Pod{pod("api-1", container(corev1.ContainerStatus{Name: "api",
				State: waiting("CreateContainerConfigError", "failed to sync secret cache: timed out waiting for the condition")}))},
			now: t0.Add(5 * time.Second), wantRecheck: t0.Add(30 * time.Second),
		},
		{
			name: "image not found fails at once", obj: deployment(1, 1, 0),
			pods: []*corev1.Pod{pod("api-1", container(corev1.ContainerStatus{Name: "api",
				State: waiting("ErrImagePull", `rpc error: failed to resolve reference "x/api:v2": x/api:v2: not found`)}))},
			now: t0, wantVerdict: report.VerdictFailed, wantReason: "ErrImagePull",
		},
		{
			name: "registry blip is retried within the grace", obj: deployment(1, 1, 0),
			pods: []*corev1.Pod{pod("api-1", container(corev1.ContainerStatus{Name: "api",
				State: waiting("ImagePullBackOff", "dial tcp: lookup registry: i/o timeout")}))},
			now: t0.Add(10 * time.Second), wantRecheck: t0.Add(30 * time.Second), wantProgress: "api-1 ImagePullBackOff",
		},
		{
			name: "registry blip past the grace fails", obj: deployment(1, 1, 0),
			pods: []*corev1.Pod{pod("api-1", container(corev1.ContainerStatus{Name: "api",
				State: waiting("ImagePullBackOff", "dial tcp: lookup registry: i/o timeout")}))},
			now: t0.Add(31 * time.Second), wantVerdict: report.VerdictFailed, wantReason: "ImagePullBackOff", wantMsg: "for more than 30s",
		},
		{
			name: "image never pulled fails at once", obj: deployment(1, 1, 0),
			pods: []*corev1.Pod{pod("api-1", container(corev1.ContainerStatus{Name: "api", State: waiting("ErrImageNeverPull", "")}))},
			now:  t0, wantVerdict: report.VerdictFailed, wantReason: "ErrImageNeverPull",
		},
		{
			name: "init container crash loop fails with Init: prefix", obj: deployment(1, 1, 0),
			pods: []*corev1.Pod{pod("api-1", initContainer(corev1.ContainerStatus{Name: "migrate", RestartCount: 1,
				State: waiting("CrashLoopBackOff", ""), LastTerminationState: terminated(1, "Error")}))},
			now: t0, wantVerdict: report.VerdictFailed, wantReason: "Init:CrashLoopBackOff", wantMsg: "init container migrate crashed 2 times",
		},
		{
			name: "completed init container is not a crash", obj: deployment(1, 1, 0),
			pods: []*corev1.Pod{pod("api-1", initContainer(corev1.ContainerStatus{Name: "migrate", State: terminated(0, "Completed")}),
				container(corev1.ContainerStatus{Name: "api", State: waiting("PodInitializing", "")}))},
			now: t0,
		},
		{
			name: "unschedulable within the grace waits", obj: deployment(1, 1, 0),
			pods: []*corev1.Pod{pod("api-1", func(p *corev1.Pod) {
				p.Status.Phase = corev1.PodPending
				p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse,
					Reason: "Unschedulable", Message: "0/1 nodes are available: 1 Insufficient memory.", LastTransitionTime: metav1.NewTime(t0)}}
			})},
			now: t0.Add(20 * time.Second), wantRecheck: t0.Add(30 * time.Second), wantProgress: "Pending (Unschedulable)",
		},
		{
			name: "unschedulable past the grace fails", obj: deployment(1, 1, 0),
			pods: []*corev1.Pod{pod("api-1", func(p *corev1.Pod) {
				p.Status.Phase = corev1.PodPending
				p.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodScheduled, Status: corev1.ConditionFalse,
					Reason: "Unschedulable", Message: "0/1 nodes are available: 1 Insufficient memory.", LastTransitionTime: metav1.NewTime(t0)}}
			})},
			now: t0.Add(30 * time.Second), wantVerdict: report.VerdictFailed, wantReason: "Unschedulable", wantMsg: "Insufficient memory",
		},
		{
			name: "evicted pod fails", obj: deployment(1, 1, 0),
			pods: []*corev1.Pod{pod("api-1", func(p *corev1.Pod) {
				p.Status.Phase, p.Status.Reason, p.Status.Message = corev1.PodFailed, "Evicted", "The node was low on resource: memory."
			})},
			now: t0, wantVerdict: report.VerdictFailed, wantReason: "Evicted", wantMsg: "low on resource",
		},
		{
			name: "progress deadline exceeded fails", obj: deployment(1, 1, 0, appsv1.DeploymentCondition{Type: appsv1.DeploymentProgressing,
				Status: corev1.ConditionFalse, Reason: "ProgressDeadlineExceeded", Message: `ReplicaSet "api-1" has timed out progressing.`}),
			now: t0, wantVerdict: report.VerdictFailed, wantReason: "ProgressDeadlineExceeded", wantMsg: "timed out progressing",
		},
		{
			name: "replica failure past the grace fails", obj: deployment(1, 0, 0, appsv1.DeploymentCondition{Type: appsv1.DeploymentReplicaFailure,
				Status: corev1.ConditionTrue, Reason: "FailedCreate", Message: `pods "api-1" is forbidden: exceeded quota: compute`,
				LastTransitionTime: metav1.NewTime(t0)}),
			now: t0.Add(31 * time.Second), wantVerdict: report.VerdictFailed, wantReason: "FailedCreate", wantMsg: "exceeded quota",
		},
		{
			name: "replica failure within the grace waits", obj: deployment(1, 0, 0, appsv1.DeploymentCondition{Type: appsv1.DeploymentReplicaFailure,
				Status: corev1.ConditionTrue, Reason: "FailedCreate", LastTransitionTime: metav1.NewTime(t0)}),
			now: t0.Add(5 * time.Second), wantRecheck: t0.Add(30 * time.Second),
		},
		{
			name: "running but not ready is in progress, not a failure", obj: deployment(1, 1, 0),
			pods: []*corev1.Pod{pod("api-1", container(corev1.ContainerStatus{Name: "api", State: running}))},
			now:  t0.Add(time.Hour), wantProgress: "api-1 running, not ready",
		},
		{
			name: "statefulset crash loop fails", obj: &appsv1.StatefulSet{
				ObjectMeta: metav1.ObjectMeta{Name: "db", Generation: 1},
				Spec:       appsv1.StatefulSetSpec{Replicas: ptr(int32(1)), UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.RollingUpdateStatefulSetStrategyType}},
				Status:     appsv1.StatefulSetStatus{ObservedGeneration: 1},
			},
			pods: []*corev1.Pod{pod("db-0", container(corev1.ContainerStatus{Name: "db", RestartCount: 2, State: waiting("CrashLoopBackOff", ""),
				LastTerminationState: terminated(1, "Error")}))},
			now: t0, wantVerdict: report.VerdictFailed, wantReason: "CrashLoopBackOff", wantMsg: "crashed 3 times",
		},
		{
			name: "statefulset OnDelete cannot be tracked", obj: &appsv1.StatefulSet{
				ObjectMeta: metav1.ObjectMeta{Name: "db", Generation: 1},
				Spec:       appsv1.StatefulSetSpec{Replicas: ptr(int32(1)), UpdateStrategy: appsv1.StatefulSetUpdateStrategy{Type: appsv1.OnDeleteStatefulSetStrategyType}},
				Status:     appsv1.StatefulSetStatus{ObservedGeneration: 1},
			},
			now: t0, wantVerdict: report.VerdictFailed, wantReason: "CannotTrack", wantMsg: "RollingUpdate",
		},
		{
			name: "daemonset complete is healthy after soak", obj: &appsv1.DaemonSet{
				ObjectMeta: metav1.ObjectMeta{Name: "agent", Generation: 1},
				Spec:       appsv1.DaemonSetSpec{UpdateStrategy: appsv1.DaemonSetUpdateStrategy{Type: appsv1.RollingUpdateDaemonSetStrategyType}},
				Status:     appsv1.DaemonSetStatus{ObservedGeneration: 1, DesiredNumberScheduled: 1, UpdatedNumberScheduled: 1, NumberAvailable: 1},
			},
			completedAt: t0, now: t0.Add(11 * time.Second), wantVerdict: report.VerdictHealthy,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := policy
			if tt.policy != nil {
				p = *tt.policy
			}
			j := Evaluate(Snapshot{Object: tt.obj.(runtime.Object).DeepCopyObject(), Pods: tt.pods, CompletedAt: tt.completedAt}, p, tt.now)
			if j.Verdict != tt.wantVerdict {
				t.Fatalf("verdict = %q (%s: %s), want %q", j.Verdict, j.Reason, j.Message, tt.wantVerdict)
			}
			if tt.wantReason != "" && j.Reason != tt.wantReason {
				t.Errorf("reason = %q, want %q", j.Reason, tt.wantReason)
			}
			if !strings.Contains(j.Message, tt.wantMsg) {
				t.Errorf("message = %q, want it to contain %q", j.Message, tt.wantMsg)
			}
			if !tt.wantRecheck.IsZero() && !j.RecheckAt.Equal(tt.wantRecheck) {
				t.Errorf("recheck at %s, want %s", j.RecheckAt, tt.wantRecheck)
			}
			if !strings.Contains(j.Progress, tt.wantProgress) {
				t.Errorf("progress = %q, want it to contain %q", j.Progress, tt.wantProgress)
			}
		})
	}
}
