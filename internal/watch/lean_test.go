package watch

import (
	"context"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rollout-gate/rollout-gate/internal/kube/kubetest"
	"github.com/rollout-gate/rollout-gate/internal/report"
	"github.com/rollout-gate/rollout-gate/internal/workload"
)

// TestFullPodsKeepsTheVerdictsStatus: the diagnosis gets the pods' full spec from the API server,
// but the status the verdict was made on. By the time the watch is over, a liveness-killed
// container may be running and ready again; a diagnosis of that status finds no cause.
func TestFullPodsKeepsTheVerdictsStatus(t *testing.T) {
	t.Parallel()
	d, _, newPod, _ := rollout()
	newPod.UID = "pod-uid"
	now := newPod.DeepCopy() // as the API server has it after the verdict: ready again
	now.Spec.Containers = []corev1.Container{{Name: "api", Image: "api:v2", Env: []corev1.EnvVar{{Name: "DB_HOST", Value: "db"}}}}
	now.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubelet"}}
	now.Status.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}
	now.Status.ContainerStatuses[0].RestartCount = 3
	client := kubetest.Client(d, now)

	judged := leanPod(newPod) // as the judge saw it: killed by its liveness probe, restarting
	judged.Status.ContainerStatuses[0] = corev1.ContainerStatus{Name: "api", RestartCount: 2,
		State: waiting("CrashLoopBackOff", ""), LastTerminationState: terminated(137, "Error")}
	tests := []struct {
		name     string
		verdict  report.Verdict
		wantFull bool
	}{
		{"failed: full spec, judged status", report.VerdictFailed, true},
		{"timed out: full spec, judged status", report.VerdictTimeout, true},
		{"healthy: not read again", report.VerdictHealthy, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wl, err := workload.For(d)
			if err != nil {
				t.Fatal(err)
			}
			pods := []corev1.Pod{*judged.DeepCopy()}
			rs := []Result{{Workload: apiDeployment, Verdict: tt.verdict, Object: d, Pods: pods,
				Observation: workload.Observe(wl, workload.History{}, pods), historyRead: true}}
			(&Watcher{Client: client}).completeObservations(context.Background(), rs)
			if (rs[0].Observation != nil) != tt.wantFull {
				t.Errorf("observation kept = %v, want %v", rs[0].Observation != nil, tt.wantFull)
			}
			p := rs[0].Pods[0]
			if got := len(p.Spec.Containers) == 1 && len(p.Spec.Containers[0].Env) == 1; got != tt.wantFull {
				t.Errorf("full spec read = %v, want %v: containers %+v", got, tt.wantFull, p.Spec.Containers)
			}
			if p.ManagedFields != nil {
				t.Errorf("managed fields kept: %+v", p.ManagedFields)
			}
			cs := p.Status.ContainerStatuses
			if len(cs) != 1 || cs[0].RestartCount != 2 || cs[0].State.Waiting == nil || p.Status.Conditions != nil {
				t.Errorf("status %+v, want the judged one (restarts 2, CrashLoopBackOff, no Ready condition)", p.Status)
			}
		})
	}
}
