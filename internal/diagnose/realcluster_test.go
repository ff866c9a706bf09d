package diagnose

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/rollout-gate/rollout-gate/internal/report"
)

// A v1.34 scheduler no longer names the taints it could not tolerate ("had untolerated
// taint(s)"), so node pressure is read from the nodes the pod may run on.
func TestUnschedulableUnnamedTaints(t *testing.T) {
	t.Parallel()
	const (
		pinned = "0/2 nodes are available: 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) had untolerated taint(s). no new claims to deallocate, preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
		mixed  = "0/2 nodes are available: 1 Insufficient cpu, 1 node(s) had untolerated taint(s). no new claims to deallocate, preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
	)
	memPressure := corev1.Taint{Key: "node.kubernetes.io/memory-pressure", Effect: corev1.TaintEffectNoSchedule}
	node := func(name string, taints ...corev1.Taint) *corev1.Node {
		return &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"kubernetes.io/hostname": name}},
			Spec: corev1.NodeSpec{Taints: taints}}
	}
	tests := []struct {
		name        string
		msg         string
		selector    map[string]string
		tolerations []corev1.Toleration
		allNodes    bool
		want        report.Cause
		detail      string
	}{
		{name: "pinned to the pressured node", msg: pinned, selector: map[string]string{"kubernetes.io/hostname": "n2"}, allNodes: true,
			want: report.CauseNodePressure, detail: "node n2 carries taint node.kubernetes.io/memory-pressure:NoSchedule"},
		{name: "a healthy node lacks room: not pressure", msg: mixed, allNodes: true,
			want: report.CauseUnschedulable, detail: "not enough allocatable cpu"},
		{name: "pressure tolerated: another taint", msg: pinned, selector: map[string]string{"kubernetes.io/hostname": "n2"}, allNodes: true,
			tolerations: []corev1.Toleration{{Key: memPressure.Key, Operator: corev1.TolerationOpExists}},
			want:        report.CauseUnschedulable},
		{name: "node list incomplete: no conclusion", msg: pinned, selector: map[string]string{"kubernetes.io/hostname": "n2"},
			want: report.CauseUnschedulable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			pod := corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "api-1", Namespace: "production"},
				Spec: corev1.PodSpec{NodeSelector: tt.selector, Tolerations: tt.tolerations, Containers: []corev1.Container{{Name: "api"}}},
				Status: corev1.PodStatus{Phase: corev1.PodPending, Conditions: []corev1.PodCondition{{
					Type: corev1.PodScheduled, Status: corev1.ConditionFalse, Reason: corev1.PodReasonUnschedulable, Message: tt.msg}}}}
			ev := &evidence{Kind: "Deployment", Name: "api", Namespace: "production", Pods: []corev1.Pod{pod}, AllNodes: tt.allNodes,
				Nodes: map[string]*corev1.Node{"n1": node("n1"), "n2": node("n2", memPressure, corev1.Taint{Key: "dedicated", Effect: corev1.TaintEffectNoSchedule})}}
			fs := classify(ev)
			if len(fs) != 1 || fs[0].Cause != tt.want {
				t.Fatalf("findings:\n%s\nwant one %s", dump(fs), tt.want)
			}
			if !strings.Contains(fs[0].Detail, tt.detail) {
				t.Errorf("detail %q, want it to say %q", fs[0].Detail, tt.detail)
			}
			if strings.Contains(fs[0].Summary+fs[0].Detail, "no new claims") {
				t.Errorf("the scheduler's resource-claim note is kept: %q", fs[0].Summary)
			}
		})
	}
}

func TestRegistryHost(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"registry.internal:5000": "registry.internal", "ghcr.io": "ghcr.io", "localhost": "localhost"} {
		if got := registryHost(in); got != want {
			t.Errorf("registryHost(%q) = %q, want %q", in, got, want)
		}
	}
}
